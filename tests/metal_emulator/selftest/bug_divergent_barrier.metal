// PLANTED BUG: an early return before a barrier; the padded threads of the
// last group never reach it (undefined on a GPU, usually a hang).
#include <metal_stdlib>
using namespace metal;

kernel void scale_early_return(device float* x [[buffer(0)]],
                               constant uint& n [[buffer(1)]],
                               uint gid [[thread_position_in_grid]],
                               uint lid [[thread_position_in_threadgroup]]) {
    threadgroup float tile[1024];
    if (gid >= n) return;
    tile[lid] = x[gid];
    threadgroup_barrier(mem_flags::mem_threadgroup);
    x[gid] = 2.0f * tile[lid];
}

// PLANTED BUG: a barrier that only the first half of the group reaches.
kernel void half_barrier(device float* x [[buffer(0)]],
                         uint lid [[thread_position_in_threadgroup]],
                         uint tgs [[threads_per_threadgroup]]) {
    if (lid < tgs / 2) threadgroup_barrier(mem_flags::mem_threadgroup);
    x[0] = 1.0f;
}

// PLANTED BUG: a SIMD-group collective that only some lanes of a SIMD-group call.
kernel void divergent_simd_sum(device float* x [[buffer(0)]],
                               uint gid [[thread_position_in_grid]],
                               uint lane [[thread_index_in_simdgroup]]) {
    float s = 0.0f;
    if (lane < 16) s = simd_sum(1.0f);
    else threadgroup_barrier(mem_flags::mem_threadgroup);
    if (gid == 0) x[0] = s;
}
