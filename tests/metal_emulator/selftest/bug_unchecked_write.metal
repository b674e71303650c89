// PLANTED BUG: no bounds check, so the padded threads of the last group
// write past the end of `out`.
#include <metal_stdlib>
using namespace metal;

kernel void add_unchecked(device const float* a [[buffer(0)]],
                          device const float* b [[buffer(1)]],
                          device float* out [[buffer(2)]],
                          uint gid [[thread_position_in_grid]]) {
    out[gid] = a[gid] + b[gid];
}
