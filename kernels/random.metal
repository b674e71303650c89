// Counter-based random numbers: dropout masks and Gaussian noise.
//
// Word p of the stream keyed by `seed` is SplitMix64's output
//   mix64(seed + (p + 1) * GAMMA)
// (Steele, Lea and Flood, OOPSLA 2014), the same function as
// seqnn/backends/counter_rng.py, so a mask depends on the seed and the
// element's position only, and Metal and numpy draw identical masks.
#include <metal_stdlib>
using namespace metal;

constant ulong GAMMA = 0x9E3779B97F4A7C15ul;

static ulong splitmix64(ulong seed, ulong position) {
    ulong z = seed + (position + 1ul) * GAMMA;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
    return z ^ (z >> 31);
}

// Params: the arrays' element offsets first (the launch convention), then
// 64-bit values as two 32-bit halves, so every field is 4 bytes and unpadded.
struct DropoutParams {
    uint x_offset;
    uint y_offset;
    uint mask_offset;
    uint seed_low, seed_high;          // the stream's key
    uint position_low, position_high;  // the stream position of element 0 of this call
    uint n;                            // elements
    uint threshold;                    // keep when the word's top 24 bits >= threshold (ceil(rate * 2^24))
    float scale;                       // 1 / (1 - rate)
};

static ulong join(uint low, uint high) {
    return (ulong(high) << 32) | ulong(low);
}

// y = x * mask, mask = keep ? scale : 0.
kernel void dropout(device const float* x [[buffer(0)]],
                    device float* y [[buffer(1)]],
                    device float* mask [[buffer(2)]],
                    constant DropoutParams& p [[buffer(3)]],
                    uint i [[thread_position_in_grid]]) {
    if (i >= p.n) {
        return;
    }
    ulong word = splitmix64(join(p.seed_low, p.seed_high), join(p.position_low, p.position_high) + ulong(i));
    float m = uint(word >> 40) >= p.threshold ? p.scale : 0.0f;
    mask[p.mask_offset + i] = m;
    y[p.y_offset + i] = x[p.x_offset + i] * m;
}

struct NoiseParams {
    uint x_offset;
    uint y_offset;
    uint seed_low, seed_high;
    uint position_low, position_high;
    uint n;
    float stddev;
};

// y = x + stddev * z, z standard normal by Box-Muller from bits 63..40 and 39..16 of one word.
kernel void gaussian_noise(device const float* x [[buffer(0)]],
                           device float* y [[buffer(1)]],
                           constant NoiseParams& p [[buffer(2)]],
                           uint i [[thread_position_in_grid]]) {
    if (i >= p.n) {
        return;
    }
    ulong word = splitmix64(join(p.seed_low, p.seed_high), join(p.position_low, p.position_high) + ulong(i));
    float u1 = float(uint(word >> 40)) * (1.0f / 16777216.0f);
    float u2 = float(uint((word >> 16) & 0xFFFFFFul)) * (1.0f / 16777216.0f);
    float radius = sqrt(-2.0f * log(1.0f - u1));  // 1 - u1 is in (0, 1]: finite
    y[p.y_offset + i] = x[p.x_offset + i] + p.stddev * radius * cos(6.28318530717958647f * u2);
}
