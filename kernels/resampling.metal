// Resampling kernels of the Metal backend: integer-factor upsampling of
// channels-last float32 images x[N, H, W, C] → y[N, H·sh, W·sw, C], nearest
// and bilinear, and their gradients.
//
// Nearest: y[n, i, j, c] = x[n, i / sh, j / sw, c]; its gradient sums each
// sh × sw block of dy.
//
// Bilinear, half-pixel centres (TensorFlow's resize, PyTorch's
// align_corners=False), separable. Along an axis of length L upsampled by s,
// output o = q·s + r samples source position q + δ_r with
// δ_r = (r + ½)/s − ½ = (2r + 1 − s)/2s ∈ (−½, ½):
//     y[o] = (1 − |δ_r|)·x[q] + |δ_r|·x[q ± 1]   (the neighbour on δ_r's side, clamped to [0, L − 1]).
// Rows are interpolated first, then columns, as the numpy backend does.
// The gradient is the transposed map, gathered: one thread per dx element
// sums the dy entries whose taps reach it (outputs (q − 1)·s … (q + 2)·s − 1
// along each axis), columns first, then rows, as the numpy backend's adjoint.
//
// One thread per output element, forward and backward; no atomics.
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

struct ResampleParams {
    uint in_off, out_off;
    uint n, h, w, c;  // the small image x (the input forward, the gradient's shape backward)
    uint sh, sw;      // factors: the large image is [n, h·sh, w·sw, c]
};

// Flat index of a[n, row, col, c] in an [·, rows, cols, channels] array.
inline uint at(uint n, uint row, uint col, uint c, uint rows, uint cols, uint channels) {
    return ((n * rows + row) * cols + col) * channels + c;
}

// The two taps of output o along an axis of `size` entries upsampled by s: x[near]·w_near + x[far]·w_far.
struct Taps {
    uint near, far;
    float w_near, w_far;
};

inline Taps taps(uint o, uint s, uint size) {
    const uint q = o / s;
    const int twice_delta_s = int(2 * (o % s) + 1) - int(s);  // 2s·δ_r, an exact integer
    const uint d = uint(abs(twice_delta_s));
    Taps t;
    t.near = q;
    t.far = twice_delta_s > 0 ? min(q + 1, size - 1) : (twice_delta_s < 0 && q > 0 ? q - 1 : q);
    t.w_near = float(2 * s - d) / float(2 * s);  // 1 − |δ_r|, one rounding
    t.w_far = float(d) / float(2 * s);           // |δ_r| (0 when s is odd and r the middle phase)
    return t;
}

// The weight with which output o's taps read source index k (0 when neither tap is k).
inline float weight_of(Taps t, uint k) {
    return (t.near == k ? t.w_near : 0.0f) + (t.far == k ? t.w_far : 0.0f);
}

kernel void upsample_nearest(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                             constant ResampleParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    const uint oh = p.h * p.sh, ow = p.w * p.sw;
    if (gid >= p.n * oh * ow * p.c) return;
    const uint c = gid % p.c, j = gid / p.c % ow, i = gid / p.c / ow % oh, n = gid / p.c / ow / oh;
    y[p.out_off + gid] = x[p.in_off + at(n, i / p.sh, j / p.sw, c, p.h, p.w, p.c)];
}

// dx[n, h, w, c] = Σ_{r < sh, q < sw} dy[n, h·sh + r, w·sw + q, c].
kernel void upsample_nearest_backward(device const float* dy [[buffer(0)]], device float* dx [[buffer(1)]],
                                      constant ResampleParams& p [[buffer(2)]],
                                      uint gid [[thread_position_in_grid]]) {
    const uint oh = p.h * p.sh, ow = p.w * p.sw;
    if (gid >= p.n * p.h * p.w * p.c) return;
    const uint c = gid % p.c, col = gid / p.c % p.w, row = gid / p.c / p.w % p.h, n = gid / p.c / p.w / p.h;
    float total = 0.0f;
    for (uint r = 0; r < p.sh; ++r) {
        for (uint q = 0; q < p.sw; ++q) total += dy[p.in_off + at(n, row * p.sh + r, col * p.sw + q, c, oh, ow, p.c)];
    }
    dx[p.out_off + gid] = total;
}

kernel void upsample_bilinear(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                              constant ResampleParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    const uint oh = p.h * p.sh, ow = p.w * p.sw;
    if (gid >= p.n * oh * ow * p.c) return;
    const uint c = gid % p.c, j = gid / p.c % ow, i = gid / p.c / ow % oh, n = gid / p.c / ow / oh;
    const Taps r = taps(i, p.sh, p.h), s = taps(j, p.sw, p.w);
    // The row pass at the two source columns, then the column pass.
    const float near_col = r.w_near * x[p.in_off + at(n, r.near, s.near, c, p.h, p.w, p.c)] +
                           r.w_far * x[p.in_off + at(n, r.far, s.near, c, p.h, p.w, p.c)];
    const float far_col = r.w_near * x[p.in_off + at(n, r.near, s.far, c, p.h, p.w, p.c)] +
                          r.w_far * x[p.in_off + at(n, r.far, s.far, c, p.h, p.w, p.c)];
    y[p.out_off + gid] = s.w_near * near_col + s.w_far * far_col;
}

// dx[n, h, w, c] = Σ_i weight(i → h) · Σ_j weight(j → w) · dy[n, i, j, c].
kernel void upsample_bilinear_backward(device const float* dy [[buffer(0)]], device float* dx [[buffer(1)]],
                                       constant ResampleParams& p [[buffer(2)]],
                                       uint gid [[thread_position_in_grid]]) {
    const uint oh = p.h * p.sh, ow = p.w * p.sw;
    if (gid >= p.n * p.h * p.w * p.c) return;
    const uint c = gid % p.c, col = gid / p.c % p.w, row = gid / p.c / p.w % p.h, n = gid / p.c / p.w / p.h;
    // Only outputs of source rows row − 1 … row + 1 (columns alike) have a tap on (row, col).
    const uint i_lo = row > 0 ? (row - 1) * p.sh : 0, i_hi = min(row + 2, p.h) * p.sh;
    const uint j_lo = col > 0 ? (col - 1) * p.sw : 0, j_hi = min(col + 2, p.w) * p.sw;
    float total = 0.0f;
    for (uint i = i_lo; i < i_hi; ++i) {
        const float row_weight = weight_of(taps(i, p.sh, p.h), row);
        if (row_weight == 0.0f) continue;
        float row_total = 0.0f;
        for (uint j = j_lo; j < j_hi; ++j) {
            const float col_weight = weight_of(taps(j, p.sw, p.w), col);
            if (col_weight != 0.0f) row_total += col_weight * dy[p.in_off + at(n, i, j, c, oh, ow, p.c)];
        }
        total += row_weight * row_total;
    }
    dx[p.out_off + gid] = total;
}
