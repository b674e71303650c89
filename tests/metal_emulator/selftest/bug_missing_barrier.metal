// PLANTED BUG: block_sum without the barrier between filling the tile and
// reducing it, so a thread may add a neighbour's slot before it is written.
#include <metal_stdlib>
using namespace metal;
kernel void block_sum_no_barrier(device const float* x [[buffer(0)]], device float* partial [[buffer(1)]],
                      constant uint& n [[buffer(2)]],
                      uint gid [[thread_position_in_grid]], uint lid [[thread_position_in_threadgroup]],
                      uint group [[threadgroup_position_in_grid]], uint tgs [[threads_per_threadgroup]]) {
    threadgroup float tile[1024];
    tile[lid] = gid < n ? x[gid] : 0.0f;
    for (uint s = tgs / 2; s > 0; s >>= 1) {
        if (lid < s) tile[lid] += tile[lid + s];
        threadgroup_barrier(mem_flags::mem_threadgroup);
    }
    if (lid == 0) partial[group] = tile[0];
}
