// Per-threadgroup sum through threadgroup memory and barriers (a tree
// reduction; correct for any power-of-two threadgroup size).
#include <metal_stdlib>
using namespace metal;
kernel void block_sum(device const float* x [[buffer(0)]], device float* partial [[buffer(1)]],
                      constant uint& n [[buffer(2)]],
                      uint gid [[thread_position_in_grid]], uint lid [[thread_position_in_threadgroup]],
                      uint group [[threadgroup_position_in_grid]], uint tgs [[threads_per_threadgroup]]) {
    threadgroup float tile[1024];
    tile[lid] = gid < n ? x[gid] : 0.0f;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (uint s = tgs / 2; s > 0; s >>= 1) {
        if (lid < s) tile[lid] += tile[lid + s];
        threadgroup_barrier(mem_flags::mem_threadgroup);
    }
    if (lid == 0) partial[group] = tile[0];
}
