// Convolution kernels of the Metal backend over float32, channels-last images
// x[N, H, W, C] and kernels [KH, KW, C, Cout] (seqnn/backends/metal/conv.py).
//
// A convolution is a matrix product over its patch matrix: row m = (n, i, j)
// of P[M = N·OH·OW, K = KH·KW·C] is the receptive field of output pixel
// (n, i, j), column k = (a, b, c) one tap and channel of it,
//
//     P[(n, i, j), (a, b, c)] = x̃[n, i·sh + a·dh, j·sw + b·dw, c]
//
// (x̃: x zero-padded by top rows and left columns; bottom/right padding is
// implied by OH and OW). Then y = P·W, dW = Pᵀ·dy and dx = col2im(dy·Wᵀ),
// with the products on the tiled gemm kernel (gemm.metal). This file holds
// the data movement around them:
//
//   im2col        P from x, one thread per element of P;
//   col2im        dx from dP = dy·Wᵀ as a gather: one thread per element of
//                 dx sums the entries of dP that read it (no atomics, and a
//                 fixed summation order, so results do not depend on the
//                 schedule);
//   pad2d         x̃ from x, one thread per element of x̃;
//   crop2d        the adjoint of pad2d, one thread per element of the result.
//
// Every kernel is elementwise over its output: no threadgroup memory, no
// barriers, correct for any threadgroup size; each thread checks its index
// against p.count (the last threadgroup is padded). Indices are 32-bit: the
// host sends only arrays of fewer than 2^32 elements. Window positions that
// fall in the padding are negative or past the edge, so they are computed as
// int.
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

// The geometry im2col and col2im share.
struct ConvParams {
    uint src_off, dst_off;
    uint count;        // threads that do work: elements of the destination
    uint h, w, c;      // the input image x[N, H, W, C]
    uint oh, ow;       // the output image
    uint kh, kw;       // kernel taps
    uint sh, sw;       // strides
    uint dh, dw;       // dilation
    uint top, left;    // zero padding before the first row and column
};

// patches[m, k] = x̃[n, i·sh + a·dh, j·sw + b·dw, c] for m = (n·OH + i)·OW + j, k = (a·KW + b)·C + c.
kernel void im2col(device const float* x [[buffer(0)]], device float* patches [[buffer(1)]],
                   constant ConvParams& p [[buffer(2)]], uint e [[thread_position_in_grid]]) {
    if (e < p.count) {
        const uint taps = p.kh * p.kw * p.c;
        const uint m = e / taps, k = e % taps;
        // Neighbouring threads take neighbouring channels of one tap: neighbouring addresses of x.
        const uint c = k % p.c, b = k / p.c % p.kw, a = k / p.c / p.kw;
        const uint j = m % p.ow, i = m / p.ow % p.oh, n = m / p.ow / p.oh;
        const int row = int(i * p.sh + a * p.dh) - int(p.top);
        const int col = int(j * p.sw + b * p.dw) - int(p.left);
        const bool inside = row >= 0 && row < int(p.h) && col >= 0 && col < int(p.w);
        patches[p.dst_off + e] = inside ? x[p.src_off + ((n * p.h + uint(row)) * p.w + uint(col)) * p.c + c] : 0.0f;
    }
}

// dx[n, r, s, c] = Σ dpatches[(n, i, j), (a, b, c)] over the taps with i·sh + a·dh − top = r and
// j·sw + b·dw − left = s (0 ≤ i < OH, 0 ≤ j < OW): the adjoint of im2col. The padding is never
// written (only real pixels have a thread), which is the crop of the padded gradient.
kernel void col2im(device const float* dpatches [[buffer(0)]], device float* dx [[buffer(1)]],
                   constant ConvParams& p [[buffer(2)]], uint e [[thread_position_in_grid]]) {
    if (e < p.count) {
        const uint taps = p.kh * p.kw * p.c;
        const uint c = e % p.c, s = e / p.c % p.w, r = e / p.c / p.w % p.h, n = e / p.c / p.w / p.h;
        float total = 0.0f;
        for (uint a = 0; a < p.kh; ++a) {
            // This tap reads row r for the output row i with i·sh = r + top − a·dh, if there is one.
            const int i_sh = int(r + p.top) - int(a * p.dh);
            if (i_sh < 0 || uint(i_sh) % p.sh != 0 || uint(i_sh) / p.sh >= p.oh) continue;
            const uint i = uint(i_sh) / p.sh;
            for (uint b = 0; b < p.kw; ++b) {
                const int j_sw = int(s + p.left) - int(b * p.dw);
                if (j_sw < 0 || uint(j_sw) % p.sw != 0 || uint(j_sw) / p.sw >= p.ow) continue;
                const uint j = uint(j_sw) / p.sw;
                total += dpatches[p.src_off + ((n * p.oh + i) * p.ow + j) * taps + (a * p.kw + b) * p.c + c];
            }
        }
        dx[p.dst_off + e] = total;
    }
}

struct PadParams {
    uint src_off, dst_off;
    uint count;             // elements of the destination
    uint h, w, c;           // the unpadded image
    uint padded_h, padded_w;
    uint top, left;
};

// out[n, r, s, c] = x[n, r − top, s − left, c] inside the image, 0 in the padding; out is [N, PH, PW, C].
kernel void pad2d(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                  constant PadParams& p [[buffer(2)]], uint e [[thread_position_in_grid]]) {
    if (e < p.count) {
        const uint c = e % p.c, s = e / p.c % p.padded_w, r = e / p.c / p.padded_w % p.padded_h;
        const uint n = e / p.c / p.padded_w / p.padded_h;
        const int row = int(r) - int(p.top), col = int(s) - int(p.left);
        const bool inside = row >= 0 && row < int(p.h) && col >= 0 && col < int(p.w);
        out[p.dst_off + e] = inside ? x[p.src_off + ((n * p.h + uint(row)) * p.w + uint(col)) * p.c + c] : 0.0f;
    }
}

// out[n, r, s, c] = dy[n, r + top, s + left, c]: dy[N, PH, PW, C] with the padding cropped off, out [N, H, W, C].
kernel void crop2d(device const float* dy [[buffer(0)]], device float* out [[buffer(1)]],
                   constant PadParams& p [[buffer(2)]], uint e [[thread_position_in_grid]]) {
    if (e < p.count) {
        const uint c = e % p.c, s = e / p.c % p.w, r = e / p.c / p.w % p.h, n = e / p.c / p.w / p.h;
        out[p.dst_off + e] = dy[p.src_off + ((n * p.padded_h + r + p.top) * p.padded_w + s + p.left) * p.c + c];
    }
}
