// C = op(A) op(B) in float32, op = transpose where asked: the NN form is the
// forward pass, NT the input gradient (dy W^T), TN the weight gradient (x^T dy).
// No transposed copy is made: the tile loads read A and B in their stored
// layout.
//
// C is cut into 32x32 blocks; a threadgroup computes blocks group, group +
// groups, ... (the host launches 1024 threads per block, so a group of 1024
// threads has one block, smaller groups share out the same blocks). The block
// loop's bounds are the same for every thread of a group, so each barrier is
// reached by all of them. Within a block, the group's threads take the 1024
// outputs e = lid, lid + tgs, ... (at most 32 each: tgs is a multiple of 32),
// so the kernel is right for any threadgroup size that is a multiple of 32 up
// to 1024. K is walked in steps of 32 through two tiles in threadgroup
// memory, zero-filled past the matrix edges.
//
// Calling convention: arrays bound as whole buffers; the params struct (the
// last buffer) starts with one element offset per bound array.
#include <metal_stdlib>
using namespace metal;

struct GemmParams {
    uint a_off, b_off, c_off;
    uint m, n, k;      // C is m x n; op(A) is m x k, op(B) is k x n
    uint trans_a;      // 1: A is stored k x m
    uint trans_b;      // 1: B is stored n x k
};

kernel void gemm(device const float* a [[buffer(0)]], device const float* b [[buffer(1)]],
                 device float* c [[buffer(2)]], constant GemmParams& p [[buffer(3)]],
                 uint lid [[thread_position_in_threadgroup]], uint group [[threadgroup_position_in_grid]],
                 uint tgs [[threads_per_threadgroup]], uint groups [[threadgroups_per_grid]]) {
    threadgroup float a_tile[32][33];  // a_tile[r][kk] = op(A)[r0 + r, k0 + kk]; 33: no bank conflicts
    threadgroup float b_tile[32][33];  // b_tile[kk][j] = op(B)[k0 + kk, c0 + j]
    const uint block_cols = (p.n + 31) / 32;
    const uint blocks = ((p.m + 31) / 32) * block_cols;
    for (uint block = group; block < blocks; block += groups) {
        const uint r0 = block / block_cols * 32, c0 = block % block_cols * 32;
        float acc[32];
        for (uint i = 0; i < 32; ++i) acc[i] = 0.0f;
        for (uint k0 = 0; k0 < p.k; k0 += 32) {
            for (uint e = lid; e < 1024; e += tgs) {
                // Neighbouring threads read neighbouring addresses: the fast index is the stored row's.
                const uint fast = e % 32, slow = e / 32;
                const uint ar = p.trans_a ? fast : slow, ak = p.trans_a ? slow : fast;
                const uint row = r0 + ar, col = k0 + ak;
                a_tile[ar][ak] = (row < p.m && col < p.k)
                    ? a[p.a_off + (p.trans_a ? col * p.m + row : row * p.k + col)] : 0.0f;
                const uint bk = p.trans_b ? fast : slow, bj = p.trans_b ? slow : fast;
                const uint depth = k0 + bk, column = c0 + bj;
                b_tile[bk][bj] = (depth < p.k && column < p.n)
                    ? b[p.b_off + (p.trans_b ? column * p.k + depth : depth * p.n + column)] : 0.0f;
            }
            threadgroup_barrier(mem_flags::mem_threadgroup);
            uint i = 0;
            for (uint e = lid; e < 1024; e += tgs, ++i) {
                const uint r = e / 32, j = e % 32;
                for (uint kk = 0; kk < 32; ++kk) acc[i] = fma(a_tile[r][kk], b_tile[kk][j], acc[i]);
            }
            threadgroup_barrier(mem_flags::mem_threadgroup);
        }
        uint i = 0;
        for (uint e = lid; e < 1024; e += tgs, ++i) {
            const uint row = r0 + e / 32, column = c0 + e % 32;
            if (row < p.m && column < p.n) c[p.c_off + row * p.n + column] = acc[i];
        }
    }
}
