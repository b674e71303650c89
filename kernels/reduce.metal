// Reductions of the Metal backend over float32: sums (accumulated in float),
// maxima and argmax.
//
// sum_rows: one SIMD-group (32 lanes) per row of a row-major [rows, cols]
// view; each lane adds a strided part of the row and simd_sum joins them. The
// grid is rows * 32 threads and a threadgroup is a whole number of SIMD-groups,
// so a SIMD-group never spans two rows, and no lane leaves before simd_sum
// (the padded last group's lanes add nothing). Elements at or past p.n count as
// 0, so a flat vector of n elements can be summed as rows of p.cols.
//
// sum_columns: one thread per column, adding the rows in order (the bias
// gradient: few columns, a batch of rows).
//
// max_rows, argmax_rows: laid out as sum_rows (one SIMD-group per row); the
// lanes' results are joined by a butterfly of simd_shuffle_xor with numpy's
// rules spelled out (a NaN wins; argmax keeps the lowest index among equals),
// which simd_max does not promise.
//
// Calling convention: arrays bound as whole buffers; the params struct (the
// last buffer) starts with one element offset per bound array.
#include <metal_stdlib>
using namespace metal;

struct RowsParams {
    uint in_off, out_off;
    uint rows, cols;
    uint n;  // elements of the input
};

kernel void sum_rows(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                     constant RowsParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]],
                     uint lane [[thread_index_in_simdgroup]]) {
    const uint row = gid / 32;
    float partial = 0.0f;
    if (row < p.rows) {
        const uint start = row * p.cols;
        for (uint j = lane; j < p.cols && start + j < p.n; j += 32) partial += x[p.in_off + start + j];
    }
    const float total = simd_sum(partial);
    if (lane == 0 && row < p.rows) out[p.out_off + row] = total;
}

struct ColumnsParams {
    uint in_off, out_off;
    uint rows, cols;
};

kernel void sum_columns(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                        constant ColumnsParams& p [[buffer(2)]], uint j [[thread_position_in_grid]]) {
    if (j < p.cols) {
        float total = 0.0f;
        for (uint r = 0; r < p.rows; ++r) total += x[p.in_off + r * p.cols + j];
        out[p.out_off + j] = total;
    }
}

// numpy's max propagates NaN; fmax would drop it.
inline float nan_max(float x, float y) { return x != x ? x : (x > y ? x : y); }

kernel void max_rows(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                     constant RowsParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]],
                     uint lane [[thread_index_in_simdgroup]]) {
    const uint row = gid / 32;
    // Every lane starts from the row's first element, so no lane needs an identity (-inf, which fast
    // math may not keep). The host never launches a row without elements; the padded group reads row 0.
    const uint start = row < p.rows ? row * p.cols : 0;
    float best = x[p.in_off + start];
    if (row < p.rows) {
        for (uint j = lane; j < p.cols && start + j < p.n; j += 32) best = nan_max(best, x[p.in_off + start + j]);
    }
    for (ushort step = 16; step > 0; step /= 2) best = nan_max(best, simd_shuffle_xor(best, step));
    if (lane == 0 && row < p.rows) out[p.out_off + row] = best;
}

// Whether (value, index) beats (best, best_index) for argmax: the first NaN wins (numpy), else the
// larger value, else among equal values the lower index.
inline bool beats(float value, uint index, float best, uint best_index) {
    const bool value_nan = value != value, best_nan = best != best;
    if (value_nan || best_nan) return value_nan && (!best_nan || index < best_index);
    return value > best || (value == best && index < best_index);
}

// out holds int64 indices (numpy's argmax dtype), written as two uint words (low first: Apple GPUs are
// little-endian), which every MSL version has; the element offset p.out_off counts int64s.
kernel void argmax_rows(device const float* x [[buffer(0)]], device uint* out [[buffer(1)]],
                        constant RowsParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]],
                        uint lane [[thread_index_in_simdgroup]]) {
    const uint row = gid / 32;
    const uint start = row < p.rows ? row * p.cols : 0;
    float best = x[p.in_off + start];
    uint best_index = 0;
    if (row < p.rows) {
        for (uint j = lane; j < p.cols; j += 32) {
            const float value = x[p.in_off + start + j];
            if (beats(value, j, best, best_index)) {
                best = value;
                best_index = j;
            }
        }
    }
    for (ushort step = 16; step > 0; step /= 2) {
        const float value = simd_shuffle_xor(best, step);
        const uint index = simd_shuffle_xor(best_index, step);
        if (beats(value, index, best, best_index)) {
            best = value;
            best_index = index;
        }
    }
    if (lane == 0 && row < p.rows) {
        out[2 * (p.out_off + row)] = best_index;
        out[2 * (p.out_off + row) + 1] = 0;
    }
}
