// Comparison and selection kernels of the Metal backend: less_equal (a mask)
// and where (a choice by mask). One thread per output element; every thread
// checks its index against p.n (the last threadgroup is padded).
//
// Masks are numpy bool arrays: one byte per element, 0 or 1, so the kernels
// write and read them as uchar (the numpy backend's less_equal returns bool,
// and where() takes either backend's mask).
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

// How an operand is indexed for output element i (as Broadcast in
// elementwise.metal, whose codes seqnn/backends/metal/elementwise.py shares).
enum Broadcast : uint {
    B_SAME = 0,    // x[i]: same shape as the output
    B_ROW = 1,     // x[i % inner]: one row broadcast over the leading axes
    B_COLUMN = 2,  // x[i / inner]: one value per row (keepdims reductions)
    B_FIRST = 3,   // x[0]: a one-element device array
    B_SCALAR = 4,  // the params' scalar: a Python float
};

inline float operand(device const float* x, uint off, uint mode, uint i, uint inner, float scalar) {
    switch (mode) {
        case B_SAME: return x[off + i];
        case B_ROW: return x[off + i % inner];
        case B_COLUMN: return x[off + i / inner];
        case B_FIRST: return x[off];
        default: return scalar;
    }
}

struct LessEqualParams {
    uint a_off, b_off, out_off;
    uint n;       // output elements
    uint b_mode;  // B_*: how b is indexed (a has the output's shape)
    uint inner;   // the output's last axis (B_ROW, B_COLUMN)
    uint swap;    // 1: out = (b <= a), the broadcast operand came first
    float scalar; // b for B_SCALAR
};

// out = a <= b; false where either is NaN, as numpy.
kernel void less_equal(device const float* a [[buffer(0)]], device const float* b [[buffer(1)]],
                       device uchar* out [[buffer(2)]], constant LessEqualParams& p [[buffer(3)]],
                       uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const float x = a[p.a_off + i];
        const float y = operand(b, p.b_off, p.b_mode, i, p.inner, p.scalar);
        out[p.out_off + i] = (p.swap ? y <= x : x <= y) ? 1 : 0;
    }
}

struct WhereParams {
    uint cond_off, a_off, b_off, out_off;
    uint n;                // output elements (the mask has the output's shape)
    uint a_mode, b_mode;   // B_*
    uint inner;            // the output's last axis (B_ROW, B_COLUMN)
    float a_scalar, b_scalar;
};

// out = cond ? a : b. out may be a or b itself: each thread reads its element before writing it.
kernel void where_select(device const uchar* cond [[buffer(0)]], device const float* a [[buffer(1)]],
                         device const float* b [[buffer(2)]], device float* out [[buffer(3)]],
                         constant WhereParams& p [[buffer(4)]], uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        out[p.out_off + i] = cond[p.cond_off + i] != 0 ? operand(a, p.a_off, p.a_mode, i, p.inner, p.a_scalar)
                                                       : operand(b, p.b_off, p.b_mode, i, p.inner, p.b_scalar);
    }
}
