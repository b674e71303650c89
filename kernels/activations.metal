// Activation kernels of the Metal backend that the core ops cannot compose:
// GELU and its gradient, exact (through erfc) and in the tanh approximation.
// One thread per element; every thread checks its index against p.n.
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

constant float SQRT_2_OVER_PI = 0.7978845608028654f;
constant float INV_SQRT_2 = 0.7071067811865476f;
constant float INV_SQRT_2PI = 0.3989422804014327f;
constant float GELU_TANH_CUBIC = 0.044715f;
// Beyond |x| = 40 every factor below has saturated (tanh is ±1, the Gaussian is 0) in float; clipping x
// there keeps x² and x³ finite, as the numpy backend does.
constant float GELU_CLIP = 40.0f;

// exp(−x²/2) for 0 ≤ x ≤ GELU_CLIP without the error of rounding x² first (which grows like x²·ε):
// x = h + l with h a multiple of 1/16, so h² is exact in float and x² = h² + l·(x + h) rounds only the
// small part.
inline float exp_minus_half_square(float x) {
    const float h = floor(x * 16.0f) / 16.0f;
    return exp(-0.5f * h * h) * exp(-0.5f * (x - h) * (x + h));
}

// Φ(x), the standard normal CDF, with a relative error of a few 1e-7 for every x, from erfc:
// Φ(x) = erfc(−x/√2)/2. Metal has no erf/erfc. This is Numerical Recipes' erfcc (2nd ed., §6.2,
// relative error below 1.2e-7: a Chebyshev-fitted exponent, erfc(z) = t·exp(−z² + P(t))), with
// exp(−z²) = exp(−x²/2) taken from x itself (rounding z = x/√2 first would cost z²·ε in the tail, where
// GELU of a negative input lives). Abramowitz–Stegun 7.1.26 (1.5e-7 absolute) has no relative precision
// in that tail.
inline float normal_cdf(float x) {
    const float a = fmin(fabs(x), GELU_CLIP);  // Φ is 0 or 1 in float long before 40
    const float t = 1.0f / (1.0f + 0.5f * INV_SQRT_2 * a);
    const float poly = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
                       t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
                       t * (-0.82215223f + t * 0.17087277f))))))));
    const float half_tail = 0.5f * t * exp_minus_half_square(a) * exp(poly);  // Φ(−|x|) = erfc(|x|/√2)/2
    return x < 0.0f ? half_tail : 1.0f - half_tail;
}

// (1 + tanh u)/2 = 1/(1 + e^(−2u)) and 1 − tanh² u, both from e = e^(−2|u|) ≤ 1: no overflow, no
// cancellation of 1 + tanh u for u ≪ 0 (and no reliance on fast math's tanh).
inline float half_one_plus_tanh(float u, float e) { return u >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e); }
inline float one_minus_tanh_squared(float e) { return 4.0f * e / ((1.0f + e) * (1.0f + e)); }

inline float tanh_argument(float xc) { return SQRT_2_OVER_PI * (xc + GELU_TANH_CUBIC * xc * xc * xc); }

struct GeluParams {
    uint x_off, out_off;
    uint n;
    uint approximate;  // 1: the tanh approximation
};

kernel void gelu(device const float* x [[buffer(0)]], device float* out [[buffer(1)]],
                 constant GeluParams& p [[buffer(2)]], uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const float v = x[p.x_off + i];
        float half_gate;  // y = x · gate, gate = Φ(x) or (1 + tanh u)/2
        if (p.approximate) {
            const float u = tanh_argument(clamp(v, -GELU_CLIP, GELU_CLIP));
            half_gate = half_one_plus_tanh(u, exp(-2.0f * fabs(u)));
        } else {
            half_gate = normal_cdf(v);
        }
        out[p.out_off + i] = v * half_gate;
    }
}

struct GeluBackwardParams {
    uint dy_off, x_off, out_off;
    uint n;
    uint approximate;
};

// out = dy · gelu'(x); out may be dy itself (each thread reads its element before writing it).
kernel void gelu_backward(device const float* dy [[buffer(0)]], device const float* x [[buffer(1)]],
                          device float* out [[buffer(2)]], constant GeluBackwardParams& p [[buffer(3)]],
                          uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const float v = x[p.x_off + i];
        const float xc = clamp(v, -GELU_CLIP, GELU_CLIP);
        float slope;
        if (p.approximate) {
            const float u = tanh_argument(xc);
            const float e = exp(-2.0f * fabs(u));
            const float du = SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_TANH_CUBIC * xc * xc);
            slope = half_one_plus_tanh(u, e) + 0.5f * v * one_minus_tanh_squared(e) * du;
        } else {
            slope = normal_cdf(v) + v * INV_SQRT_2PI * exp_minus_half_square(fabs(xc));
        }
        out[p.out_off + i] = dy[p.dy_off + i] * slope;
    }
}
