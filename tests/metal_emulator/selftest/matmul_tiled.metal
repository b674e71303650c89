// C[M,N] = A[M,K] B[K,N]; a threadgroup computes 32x32 blocks, block, block + groups, ...
// dims is a uint3: 16 bytes in MSL, so the host passes 4 uints.
#include <metal_stdlib>
using namespace metal;
kernel void matmul_tiled(device const float* A [[buffer(0)]], device const float* B [[buffer(1)]],
                         device float* C [[buffer(2)]], constant uint3& dims [[buffer(3)]],
                         uint lid [[thread_position_in_threadgroup]], uint group [[threadgroup_position_in_grid]],
                         uint tgs [[threads_per_threadgroup]], uint groups [[threadgroups_per_grid]]) {
    threadgroup float As[32][33];
    threadgroup float Bs[32][33];
    const uint M = dims.x, N = dims.y, K = dims.z;
    const uint bn = (N + 31) / 32, blocks = ((M + 31) / 32) * bn;
    for (uint blk = group; blk < blocks; blk += groups) {
        const uint r0 = blk / bn * 32, c0 = blk % bn * 32;
        float acc[32];
        for (uint i = 0; i < 32; ++i) acc[i] = 0.0f;
        for (uint k0 = 0; k0 < K; k0 += 32) {
            for (uint e = lid; e < 1024; e += tgs) {
                uint r = e / 32, c = e % 32;
                As[r][c] = (r0 + r < M && k0 + c < K) ? A[(r0 + r) * K + k0 + c] : 0.0f;
                Bs[r][c] = (k0 + r < K && c0 + c < N) ? B[(k0 + r) * N + c0 + c] : 0.0f;
            }
            threadgroup_barrier(mem_flags::mem_threadgroup);
            uint i = 0;
            for (uint e = lid; e < 1024; e += tgs, ++i) {
                uint r = e / 32, c = e % 32;
                for (uint k = 0; k < 32; ++k) acc[i] = fma(As[r][k], Bs[k][c], acc[i]);
            }
            threadgroup_barrier(mem_flags::mem_threadgroup);
        }
        uint i = 0;
        for (uint e = lid; e < 1024; e += tgs, ++i) {
            uint r = r0 + e / 32, c = c0 + e % 32;
            if (r < M && c < N) C[r * N + c] = acc[i];
        }
    }
}
