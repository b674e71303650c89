// Elementwise kernels of the Metal backend: binary ops with the broadcasts the
// layers use, unary ops, fill. One thread per output element; every thread
// checks its index against p.n (the last threadgroup is padded).
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

// Binary op codes, as in seqnn/backends/metal/elementwise.py.
enum BinaryOp : uint { OP_ADD = 0, OP_SUBTRACT = 1, OP_MULTIPLY = 2, OP_DIVIDE = 3, OP_MAXIMUM = 4, OP_MINIMUM = 5,
                       OP_SECOND = 6 /* copy_into: the second operand, broadcast */ };
// How the second operand is indexed for output element i.
enum Broadcast : uint {
    B_SAME = 0,    // b[i]: same shape as the output
    B_ROW = 1,     // b[i % p.inner]: one row broadcast over the leading axes (a bias)
    B_COLUMN = 2,  // b[i / p.inner]: one value per row (keepdims reductions)
    B_FIRST = 3,   // b[0]: a one-element device array (a norm, a 0-d sum)
    B_SCALAR = 4,  // p.scalar: a Python float
};

// numpy's maximum/minimum propagate NaN; fmax/fmin would drop it.
inline float nan_max(float x, float y) { return x != x ? x : (x > y ? x : y); }
inline float nan_min(float x, float y) { return x != x ? x : (x < y ? x : y); }

inline float apply_binary(uint op, float x, float y) {
    switch (op) {
        case OP_ADD: return x + y;
        case OP_SUBTRACT: return x - y;
        case OP_MULTIPLY: return x * y;
        case OP_DIVIDE: return x / y;
        case OP_MAXIMUM: return nan_max(x, y);
        case OP_SECOND: return y;
        default: return nan_min(x, y);
    }
}

struct BinaryParams {
    uint a_off, b_off, out_off;
    uint n;       // output elements
    uint op;      // OP_*
    uint b_mode;  // B_*
    uint inner;   // the output's last axis (B_ROW, B_COLUMN)
    uint swap;    // 1: out = op(b, a), the broadcast operand comes first
    float scalar; // the operand for B_SCALAR
};

kernel void binary(device const float* a [[buffer(0)]], device const float* b [[buffer(1)]],
                   device float* out [[buffer(2)]], constant BinaryParams& p [[buffer(3)]],
                   uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        float y;
        switch (p.b_mode) {
            case B_SAME: y = b[p.b_off + i]; break;
            case B_ROW: y = b[p.b_off + i % p.inner]; break;
            case B_COLUMN: y = b[p.b_off + i / p.inner]; break;
            case B_FIRST: y = b[p.b_off]; break;
            default: y = p.scalar; break;
        }
        const float x = a[p.a_off + i];
        out[p.out_off + i] = p.swap ? apply_binary(p.op, y, x) : apply_binary(p.op, x, y);
    }
}

// Unary op codes, as in seqnn/backends/metal/elementwise.py.
enum UnaryOp : uint { OP_SQUARE = 0, OP_SQRT = 1, OP_ABS = 2, OP_SIGN = 3, OP_EXP = 4, OP_LOG = 5, OP_CLIP = 6 };

struct UnaryParams {
    uint a_off, out_off;
    uint n;
    uint op;       // OP_*
    float lo, hi;  // OP_CLIP's bounds
};

kernel void unary(device const float* a [[buffer(0)]], device float* out [[buffer(1)]],
                  constant UnaryParams& p [[buffer(2)]], uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const float x = a[p.a_off + i];
        float y;
        switch (p.op) {
            case OP_SQUARE: y = x * x; break;
            case OP_SQRT: y = sqrt(x); break;
            case OP_ABS: y = fabs(x); break;
            case OP_SIGN: y = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x); break;  // keeps 0 and NaN, as numpy
            case OP_EXP: y = exp(x); break;
            case OP_LOG: y = log(x); break;
            default: y = nan_min(nan_max(x, p.lo), p.hi); break;  // numpy's clip: min(max(x, lo), hi)
        }
        out[p.out_off + i] = y;
    }
}

struct FillParams {
    uint out_off;
    uint n;
    float value;
};

kernel void fill(device float* out [[buffer(0)]], constant FillParams& p [[buffer(1)]],
                 uint i [[thread_position_in_grid]]) {
    if (i < p.n) out[p.out_off + i] = p.value;
}

// out = a with its axes permuted (up to 4; the host pads shorter shapes with
// leading 1s). Output element i has coordinates (i0, i1, i2, i3) in
// out_shape; it reads a at sum(ik * a_stride[k]), the strides of a's axes in
// the output's order.
struct TransposeParams {
    uint a_off, out_off;
    uint n;
    uint out_shape[4];
    uint a_stride[4];
};

kernel void transpose(device const float* a [[buffer(0)]], device float* out [[buffer(1)]],
                      constant TransposeParams& p [[buffer(2)]], uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        uint rest = i, source = 0;
        for (int axis = 3; axis >= 0; --axis) {
            source += (rest % p.out_shape[axis]) * p.a_stride[axis];
            rest /= p.out_shape[axis];
        }
        out[p.out_off + i] = a[p.a_off + source];
    }
}
