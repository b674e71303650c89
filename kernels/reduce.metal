// Sum reductions of the Metal backend over float32, accumulated in float.
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
