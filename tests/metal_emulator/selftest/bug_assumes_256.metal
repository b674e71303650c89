// PLANTED BUG: written for threadgroups of exactly 256 threads (tile size and
// the first reduction step), which metalcompute does not promise.
#include <metal_stdlib>
using namespace metal;

kernel void block_sum_256(device const float* x [[buffer(0)]],
                          device float* partial [[buffer(1)]],
                          constant uint& n [[buffer(2)]],
                          uint gid [[thread_position_in_grid]],
                          uint lid [[thread_position_in_threadgroup]],
                          uint group [[threadgroup_position_in_grid]]) {
    threadgroup float tile[256];
    tile[lid] = gid < n ? x[gid] : 0.0f;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (uint s = 128; s > 0; s >>= 1) {
        if (lid < s) tile[lid] += tile[lid + s];
        threadgroup_barrier(mem_flags::mem_threadgroup);
    }
    if (lid == 0) partial[group] = tile[0];
}
