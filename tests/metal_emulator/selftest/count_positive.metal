// Counts x > 0: a threadgroup atomic per group, then one device atomic add.
#include <metal_stdlib>
using namespace metal;
kernel void count_positive(device const float* x [[buffer(0)]], device atomic_uint* total [[buffer(1)]],
                           constant uint& n [[buffer(2)]], uint gid [[thread_position_in_grid]],
                           uint lid [[thread_position_in_threadgroup]]) {
    threadgroup atomic_uint local;
    if (lid == 0) atomic_store_explicit(&local, 0u, memory_order_relaxed);
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (gid < n && x[gid] > 0.0f) atomic_fetch_add_explicit(&local, 1u, memory_order_relaxed);
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (lid == 0) atomic_fetch_add_explicit(total, atomic_load_explicit(&local, memory_order_relaxed), memory_order_relaxed);
}
