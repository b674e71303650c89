// Per-threadgroup sum with simd_sum, then simd_shuffle_down over the
// SIMD-group partial sums kept in threadgroup memory.
#include <metal_stdlib>
using namespace metal;
kernel void simd_block_sum(device const float* x [[buffer(0)]], device float* partial [[buffer(1)]],
                           constant uint& n [[buffer(2)]],
                           uint gid [[thread_position_in_grid]], uint group [[threadgroup_position_in_grid]],
                           uint lane [[thread_index_in_simdgroup]], uint sg [[simdgroup_index_in_threadgroup]],
                           uint nsg [[simdgroups_per_threadgroup]]) {
    threadgroup float sums[32];
    float s = simd_sum(gid < n ? x[gid] : 0.0f);
    if (lane == 0) sums[sg] = s;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (sg == 0) {
        float t = lane < nsg ? sums[lane] : 0.0f;
        for (ushort d = 16; d > 0; d /= 2) t += simd_shuffle_down(t, d);
        if (lane == 0) partial[group] = t;
    }
}
