// Elementwise add with the bounds check every kernel needs: the last
// threadgroup is padded, so threads past n run too.
#include <metal_stdlib>
using namespace metal;

kernel void add(device const float* a [[buffer(0)]],
                device const float* b [[buffer(1)]],
                device float* out [[buffer(2)]],
                constant uint& n [[buffer(3)]],
                uint gid [[thread_position_in_grid]]) {
    if (gid < n) out[gid] = a[gid] + b[gid];
}
