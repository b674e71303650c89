// Each SIMD-group computes 8x8 tiles of C through simdgroup matrices, staged in threadgroup memory.
#include <metal_stdlib>
using namespace metal;
kernel void matmul_simdgroup(device const float* A [[buffer(0)]], device const float* B [[buffer(1)]],
                             device float* C [[buffer(2)]], constant uint3& dims [[buffer(3)]],
                             uint group [[threadgroup_position_in_grid]], uint groups [[threadgroups_per_grid]],
                             uint sg [[simdgroup_index_in_threadgroup]], uint nsg [[simdgroups_per_threadgroup]],
                             uint lane [[thread_index_in_simdgroup]]) {
    threadgroup float stage[32][128];
    const uint M = dims.x, N = dims.y, K = dims.z;
    const uint tn = (N + 7) / 8, tiles = ((M + 7) / 8) * tn;
    threadgroup float* a_t = stage[sg];
    threadgroup float* b_t = stage[sg] + 64;
    for (uint tile = group * nsg + sg; tile < tiles; tile += groups * nsg) {
        const uint r0 = tile / tn * 8, c0 = tile % tn * 8;
        simdgroup_float8x8 acc = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);
        for (uint k0 = 0; k0 < K; k0 += 8) {
            for (uint e = lane; e < 64; e += 32) {
                uint r = e / 8, c = e % 8;
                a_t[e] = (r0 + r < M && k0 + c < K) ? A[(r0 + r) * K + k0 + c] : 0.0f;
                b_t[e] = (k0 + r < K && c0 + c < N) ? B[(k0 + r) * N + c0 + c] : 0.0f;
            }
            simdgroup_barrier(mem_flags::mem_threadgroup);
            simdgroup_float8x8 a, b;
            simdgroup_load(a, a_t, 8);
            simdgroup_load(b, b_t, 8);
            simdgroup_multiply_accumulate(acc, a, b, acc);
            simdgroup_barrier(mem_flags::mem_threadgroup);
        }
        simdgroup_store(acc, a_t, 8);
        simdgroup_barrier(mem_flags::mem_threadgroup);
        for (uint e = lane; e < 64; e += 32) {
            uint r = r0 + e / 8, c = c0 + e % 8;
            if (r < M && c < N) C[r * N + c] = a_t[e];
        }
        simdgroup_barrier(mem_flags::mem_threadgroup);
    }
}
