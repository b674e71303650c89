// Pooling kernels of the Metal backend over channels-last float32 images:
// windowed max and average pooling, global (whole-image) max and average
// pooling, and their gradients.
//
// Windows (seqnn/backends/base.py): output (i, j) of x[N, H, W, C] reads the
// padded input rows i·sh − top + a, a < ph, and columns j·sw − left + b,
// b < pw. Padded entries take no part: a max starts from the window's first
// real element (fast math may not keep −∞, so there is no identity to start
// from) and a mean divides by the number of real entries. The host never
// launches a window without a real entry (padding ≥ the pool; Keras's modes
// never make one): that case runs numpy.
//
// Forward kernels run one thread per output element. Backward kernels are
// gathers, one thread per input element summing the outputs whose windows
// hold it (no atomics, so every thread writes its own element once); the sum
// runs in the numpy backend's order (window entry a·pw + b ascending, which
// is output row, then column, descending), so in IEEE float32 (the emulator)
// the results are the numpy backend's, bit for bit; fast math may contract
// the average's products into FMAs.
//
// Max pooling stores, per output, the int32 window offset a·pw + b of the
// entry that won (the numpy backend's int8 offsets mean the same; only the
// width differs). NaN: a NaN in the window makes the max NaN, as numpy's
// np.maximum; the offset stays where a strict ">" left it before the NaN, as
// numpy's does. NaN is recognised by its bits, which fast math cannot fold
// away (it may assume `x != x` is false).
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

inline bool is_nan(float v) { return (as_type<uint>(v) & 0x7fffffffu) > 0x7f800000u; }

// The geometry of a windowed pooling: x[n, h, w, c] → y[n, oh, ow, c].
struct Window {
    uint n, h, w, c;  // the input
    uint oh, ow;      // the output
    uint ph, pw;      // pool size
    uint sh, sw;      // strides
    uint top, left;   // padding before the rows and the columns (the padding after is implied by oh, ow)
};

struct Pool2Params {  // two arrays bound: input, output
    uint in_off, out_off;
    Window g;
};

struct Pool3Params {  // three arrays bound
    uint a_off, b_off, c_off;
    Window g;
};

// The real entries lo ≤ a < hi of window i along one axis; entry a is input index start + a.
struct Span {
    int start;
    uint lo, hi;
};

inline Span window_span(uint i, uint stride, uint before, uint pool, uint size) {
    Span s;
    s.start = int(i * stride) - int(before);
    s.lo = s.start < 0 ? uint(-s.start) : 0u;
    s.hi = uint(max(min(int(pool), int(size) - s.start), int(s.lo)));
    return s;
}

// The outputs lo ≤ i ≤ hi whose windows hold input index pos along one axis: i·stride ≤ pos + before and
// i·stride + pool − 1 ≥ pos + before. Empty (lo > hi) when no window reaches pos.
struct Covering {
    int lo, hi;
};

inline Covering covering(uint pos, uint stride, uint before, uint pool, uint outputs) {
    const int q = int(pos + before);  // pos in padded coordinates
    Covering r;
    r.lo = q >= int(pool) ? (q - int(pool)) / int(stride) + 1 : 0;
    r.hi = min(q / int(stride), int(outputs) - 1);
    return r;
}

// Flat index of x[n, row, col, c] in an [·, rows, cols, channels] array.
inline uint at(uint n, uint row, uint col, uint c, uint rows, uint cols, uint channels) {
    return ((n * rows + row) * cols + col) * channels + c;
}

// y[n, i, j, c] = max over the window's real entries; indices[n, i, j, c] = a·pw + b of the first maximum.
kernel void maxpool2d(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                      device int* indices [[buffer(2)]], constant Pool3Params& p [[buffer(3)]],
                      uint gid [[thread_position_in_grid]]) {
    const Window g = p.g;
    if (gid >= g.n * g.oh * g.ow * g.c) return;
    const uint c = gid % g.c, j = gid / g.c % g.ow, i = gid / g.c / g.ow % g.oh, n = gid / g.c / g.ow / g.oh;
    const Span rows = window_span(i, g.sh, g.top, g.ph, g.h);
    const Span cols = window_span(j, g.sw, g.left, g.pw, g.w);
    // Start from the first real entry (the loop visits it again: v > best is false, and a NaN there is seen).
    float best = x[p.a_off + at(n, uint(rows.start + int(rows.lo)), uint(cols.start + int(cols.lo)), c, g.h, g.w, g.c)];
    uint best_k = rows.lo * g.pw + cols.lo;
    bool nan_seen = false;
    for (uint a = rows.lo; a < rows.hi && !nan_seen; ++a) {
        for (uint b = cols.lo; b < cols.hi && !nan_seen; ++b) {
            const float v = x[p.a_off + at(n, uint(rows.start + int(a)), uint(cols.start + int(b)), c, g.h, g.w, g.c)];
            if (is_nan(v)) {
                best = v;  // the max is NaN from here on; numpy's "v > best" was false, so the offset stays
                nan_seen = true;
            } else if (v > best) {  // strict: the first maximum keeps ties
                best = v;
                best_k = a * g.pw + b;
            }
        }
    }
    y[p.b_off + gid] = best;
    indices[p.c_off + gid] = int(best_k);
}

// dx[n, h, w, c] = Σ dy[n, i, j, c] over the outputs whose window holds (h, w) and whose winner it was.
kernel void maxpool2d_backward(device const float* dy [[buffer(0)]], device const int* indices [[buffer(1)]],
                               device float* dx [[buffer(2)]], constant Pool3Params& p [[buffer(3)]],
                               uint gid [[thread_position_in_grid]]) {
    const Window g = p.g;
    if (gid >= g.n * g.h * g.w * g.c) return;
    const uint c = gid % g.c, col = gid / g.c % g.w, row = gid / g.c / g.w % g.h, n = gid / g.c / g.w / g.h;
    const Covering is = covering(row, g.sh, g.top, g.ph, g.oh);
    const Covering js = covering(col, g.sw, g.left, g.pw, g.ow);
    float total = 0.0f;
    for (int i = is.hi; i >= is.lo; --i) {
        const uint a = row + g.top - uint(i) * g.sh;
        for (int j = js.hi; j >= js.lo; --j) {
            const uint b = col + g.left - uint(j) * g.sw;
            const uint o = at(n, uint(i), uint(j), c, g.oh, g.ow, g.c);
            if (uint(indices[p.b_off + o]) == a * g.pw + b) total += dy[p.a_off + o];
        }
    }
    dx[p.c_off + gid] = total;
}

// 1 / (number of real entries) of window (i, j).
inline float inverse_count(uint i, uint j, Window g) {
    const Span rows = window_span(i, g.sh, g.top, g.ph, g.h);
    const Span cols = window_span(j, g.sw, g.left, g.pw, g.w);
    return 1.0f / float((rows.hi - rows.lo) * (cols.hi - cols.lo));
}

// y[n, i, j, c] = (Σ of the window's real entries) · 1/count.
kernel void avgpool2d(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                      constant Pool2Params& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    const Window g = p.g;
    if (gid >= g.n * g.oh * g.ow * g.c) return;
    const uint c = gid % g.c, j = gid / g.c % g.ow, i = gid / g.c / g.ow % g.oh, n = gid / g.c / g.ow / g.oh;
    const Span rows = window_span(i, g.sh, g.top, g.ph, g.h);
    const Span cols = window_span(j, g.sw, g.left, g.pw, g.w);
    float total = 0.0f;
    for (uint a = rows.lo; a < rows.hi; ++a) {
        for (uint b = cols.lo; b < cols.hi; ++b) {
            total += x[p.in_off + at(n, uint(rows.start + int(a)), uint(cols.start + int(b)), c, g.h, g.w, g.c)];
        }
    }
    y[p.out_off + gid] = total * inverse_count(i, j, g);
}

// dx[n, h, w, c] = Σ dy[n, i, j, c] · 1/count(i, j) over the outputs whose window holds (h, w).
kernel void avgpool2d_backward(device const float* dy [[buffer(0)]], device float* dx [[buffer(1)]],
                               constant Pool2Params& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    const Window g = p.g;
    if (gid >= g.n * g.h * g.w * g.c) return;
    const uint c = gid % g.c, col = gid / g.c % g.w, row = gid / g.c / g.w % g.h, n = gid / g.c / g.w / g.h;
    const Covering is = covering(row, g.sh, g.top, g.ph, g.oh);
    const Covering js = covering(col, g.sw, g.left, g.pw, g.ow);
    float total = 0.0f;
    for (int i = is.hi; i >= is.lo; --i) {
        for (int j = js.hi; j >= js.lo; --j) {
            total += dy[p.in_off + at(n, uint(i), uint(j), c, g.oh, g.ow, g.c)] * inverse_count(uint(i), uint(j), g);
        }
    }
    dx[p.out_off + gid] = total;
}

// ------------------------------------------------------------------ global ---
// x[N, S, C] (S: every spatial position) ↔ y[N, C]. One thread per (n, c) forward, reading x[n, ·, c]
// (neighbouring threads read neighbouring channels); one thread per x element backward.
struct Image {
    uint n, s, c;
    float inv_s;  // float32(1/S), the numpy backend's scale (the max kernels leave it unread)
};

struct Global2Params {  // two arrays bound: input, output
    uint in_off, out_off;
    Image g;
};

struct Global3Params {  // three arrays bound
    uint a_off, b_off, c_off;
    Image g;
};

// y[n, c] = (Σ_s x[n, s, c]) · 1/S, summed in s order.
kernel void global_avgpool(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                           constant Global2Params& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    const Image g = p.g;
    if (gid >= g.n * g.c) return;
    const uint c = gid % g.c, n = gid / g.c;
    float total = 0.0f;
    for (uint s = 0; s < g.s; ++s) total += x[p.in_off + (n * g.s + s) * g.c + c];
    y[p.out_off + gid] = total * g.inv_s;
}

// dx[n, s, c] = dy[n, c] · 1/S.
kernel void global_avgpool_backward(device const float* dy [[buffer(0)]], device float* dx [[buffer(1)]],
                                    constant Global2Params& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    const Image g = p.g;
    if (gid >= g.n * g.s * g.c) return;
    const uint c = gid % g.c, n = gid / g.c / g.s;
    dx[p.out_off + gid] = dy[p.in_off + n * g.c + c] * g.inv_s;
}

// y[n, c] = max_s x[n, s, c]; indices[n, c] = the first s that holds it (numpy's argmax: the first NaN,
// if any, and the max is then NaN).
kernel void global_maxpool(device const float* x [[buffer(0)]], device float* y [[buffer(1)]],
                           device int* indices [[buffer(2)]], constant Global3Params& p [[buffer(3)]],
                           uint gid [[thread_position_in_grid]]) {
    const Image g = p.g;
    if (gid >= g.n * g.c) return;
    const uint c = gid % g.c, n = gid / g.c;
    const uint base = p.a_off + n * g.s * g.c + c;
    float best = x[base];  // S ≥ 1 (the host runs numpy on empty images)
    uint best_s = 0;
    for (uint s = 1; s < g.s && !is_nan(best); ++s) {
        const float v = x[base + s * g.c];
        if (is_nan(v) || v > best) {  // strict: the first maximum keeps ties
            best = v;
            best_s = s;
        }
    }
    y[p.b_off + gid] = best;
    indices[p.c_off + gid] = int(best_s);
}

// dx[n, s, c] = dy[n, c] where s = indices[n, c], else 0.
kernel void global_maxpool_backward(device const float* dy [[buffer(0)]], device const int* indices [[buffer(1)]],
                                    device float* dx [[buffer(2)]], constant Global3Params& p [[buffer(3)]],
                                    uint gid [[thread_position_in_grid]]) {
    const Image g = p.g;
    if (gid >= g.n * g.s * g.c) return;
    const uint c = gid % g.c, s = gid / g.c % g.s, n = gid / g.c / g.s;
    const uint o = n * g.c + c;
    dx[p.c_off + gid] = uint(indices[p.b_off + o]) == s ? dy[p.a_off + o] : 0.0f;
}
