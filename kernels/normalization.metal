// Batch and layer normalization of the Metal backend, float32.
//
// Both normalize x̂ = (x − μ)·r with r = 1/√(σ² + ε) and output y = γ·x̂ + β;
// batch normalization takes μ and the biased σ² per channel (column) of
// x[rows, channels], down the rows; layer normalization per row of
// x[rows, cols], along it. γ and β are optional: a flag in the params says
// whether the buffer bound in their place is one (when it is not, the host
// binds another array there, which is never read).
//
// Batch statistics over many rows (a batch of images is N·H·W rows) are
// computed in chunks of rows, so that many SIMD-groups share the work and no
// float32 sum runs long:
//   channel_moments         per chunk k and channel c, the chunk's mean m_k
//                           and centred sum of squares q_k = Σ (x − m_k)²
//                           (two passes over the chunk);
//   channel_moments_finish  per channel, the chunks merged pairwise (Chan,
//                           Golub and LeVeque): n = n_a + n_b, δ = m_b − m_a,
//                           m = m_a + δ·n_b/n, q = q_a + q_b + δ²·n_a·n_b/n;
//                           then σ² = q/rows, r, and the moving statistics.
// The chunk statistics are those of x − K, K the channel's value in row 0
// (shifted data; the finish adds K back to μ): the variance is the same, and
// the chunk means of a channel far from zero (mean 100, deviation 0.1) keep
// the digits δ needs; rounded means of x itself would lose them, and with
// them part of the variance between chunks.
// The gradient's column sums Σ dy and Σ dy·x̂ go the same way
// (column_grad_sums, then column_grad_sums_finish); they are batch
// normalization's dβ and dγ, and layer normalization's too (sums over rows).
//
// Layout: the chunk kernels give one SIMD-group to a chunk of rows and 32
// neighbouring channels, one lane per channel, so the lanes read neighbouring
// floats of a row (a layer of fewer than 32 channels leaves the other lanes
// idle); the finish kernels give one SIMD-group to a channel, its lanes
// taking every 32nd chunk; the layer normalization kernels give one
// SIMD-group to a row, its lanes every 32nd column. No kernel uses
// threadgroup memory or barriers, so every threadgroup size works: a
// threadgroup is a whole number of SIMD-groups and the host launches a whole
// number of SIMD-groups, so a SIMD-group never spans two tasks. Padded threads
// compute and write nothing but still join every SIMD-group function.
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

// Rows of a [rows, channels] array cut into `chunks` chunks of `chunk_rows` rows (the last may be shorter).
struct Chunks {
    uint rows, channels;
    uint chunk_rows, chunks;
};

// The (chunk, channel) of thread `gid` in a chunk kernel's grid of chunks × ⌈channels/32⌉ SIMD-groups;
// false for a padded thread.
inline bool chunk_task(uint gid, Chunks g, thread uint& chunk, thread uint& c) {
    const uint task = gid / 32, blocks = (g.channels + 31) / 32;
    chunk = task / blocks;
    c = task % blocks * 32 + gid % 32;
    return chunk < g.chunks && c < g.channels;
}

inline uint chunk_end(Chunks g, uint chunk) { return min((chunk + 1) * g.chunk_rows, g.rows); }

// Merges the statistics (n_b, mean_b, sq_b) of a set of rows into (n, mean, sq): counts, means, centred
// sums of squares. An empty side changes nothing (and 0/0 is never formed: n + n_b > 0 when n_b > 0).
inline void merge_moments(thread float& n, thread float& mean, thread float& sq, float n_b, float mean_b,
                          float sq_b) {
    if (n_b > 0.0f) {
        const float total = n + n_b, delta = mean_b - mean, weight = n_b / total;
        mean = fma(delta, weight, mean);
        sq += sq_b + delta * delta * n * weight;
        n = total;
    }
}

struct MomentsParams {
    uint x_off, partial_off;
    Chunks g;
};

// partial[k·channels + c] = m_k and partial[(chunks + k)·channels + c] = q_k, chunk k of x[rows, channels],
// m_k the mean of x − K (K = x[0, c]).
kernel void channel_moments(device const float* x [[buffer(0)]], device float* partial [[buffer(1)]],
                            constant MomentsParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
    uint chunk, c;
    if (chunk_task(gid, p.g, chunk, c)) {
        const uint first = chunk * p.g.chunk_rows, last = chunk_end(p.g, chunk);
        device const float* column = x + p.x_off + c;
        const float shift = column[0];
        float total = 0.0f;
        for (uint r = first; r < last; ++r) total += column[r * p.g.channels] - shift;
        const float mean = total / float(last - first);
        float squares = 0.0f;
        for (uint r = first; r < last; ++r) {
            const float d = (column[r * p.g.channels] - shift) - mean;
            squares = fma(d, d, squares);
        }
        partial[p.partial_off + chunk * p.g.channels + c] = mean;
        partial[p.partial_off + (p.g.chunks + chunk) * p.g.channels + c] = squares;
    }
}

struct MomentsFinishParams {
    uint x_off, partial_off, stats_off, moving_mean_off, moving_variance_off;
    Chunks g;
    float momentum, complement;  // complement = 1 − momentum, rounded once (on the host)
    float epsilon;
};

// Per channel c of x[rows, channels]: μ and r = 1/√(σ² + ε) into stats[c] and stats[channels + c], and
// moving ← momentum·moving + (1 − momentum)·batch for the mean and the (biased) variance.
kernel void channel_moments_finish(device const float* x [[buffer(0)]], device const float* partial [[buffer(1)]],
                                   device float* stats [[buffer(2)]], device float* moving_mean [[buffer(3)]],
                                   device float* moving_variance [[buffer(4)]],
                                   constant MomentsFinishParams& p [[buffer(5)]],
                                   uint gid [[thread_position_in_grid]],
                                   uint lane [[thread_index_in_simdgroup]]) {
    const uint c = gid / 32;
    float n = 0.0f, mean = 0.0f, sq = 0.0f;
    if (c < p.g.channels) {
        for (uint k = lane; k < p.g.chunks; k += 32) {
            const float n_k = float(chunk_end(p.g, k) - k * p.g.chunk_rows);
            merge_moments(n, mean, sq, n_k, partial[p.partial_off + k * p.g.channels + c],
                          partial[p.partial_off + (p.g.chunks + k) * p.g.channels + c]);
        }
    }
    for (ushort step = 16; step > 0; step /= 2) {
        const float n_b = simd_shuffle_xor(n, step), mean_b = simd_shuffle_xor(mean, step);
        const float sq_b = simd_shuffle_xor(sq, step);
        merge_moments(n, mean, sq, n_b, mean_b, sq_b);
    }
    if (lane == 0 && c < p.g.channels) {
        mean += x[p.x_off + c];  // the shift K back
        const float variance = sq / float(p.g.rows);
        stats[p.stats_off + c] = mean;
        stats[p.stats_off + p.g.channels + c] = precise::rsqrt(variance + p.epsilon);
        device float* mm = moving_mean + p.moving_mean_off + c;
        device float* mv = moving_variance + p.moving_variance_off + c;
        *mm = fma(p.complement, mean, p.momentum * *mm);
        *mv = fma(p.complement, variance, p.momentum * *mv);
    }
}

struct GradSumsParams {
    uint dy_off, a_off, center_off, partial_off;
    Chunks g;
    uint has_center;
};

// partial[k·channels + c] = Σ dy and partial[(chunks + k)·channels + c] = Σ dy·(a − center[c]) over
// chunk k (center 0 without has_center): a is x̂ for the training gradient, x for the inference one.
kernel void column_grad_sums(device const float* dy [[buffer(0)]], device const float* a [[buffer(1)]],
                             device const float* center [[buffer(2)]], device float* partial [[buffer(3)]],
                             constant GradSumsParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
    uint chunk, c;
    if (chunk_task(gid, p.g, chunk, c)) {
        const uint first = chunk * p.g.chunk_rows, last = chunk_end(p.g, chunk);
        const float shift = p.has_center ? center[p.center_off + c] : 0.0f;
        float sum_dy = 0.0f, sum_dya = 0.0f;
        for (uint r = first; r < last; ++r) {
            const uint i = r * p.g.channels + c;
            const float g = dy[p.dy_off + i];
            sum_dy += g;
            sum_dya = fma(g, a[p.a_off + i] - shift, sum_dya);
        }
        partial[p.partial_off + chunk * p.g.channels + c] = sum_dy;
        partial[p.partial_off + (p.g.chunks + chunk) * p.g.channels + c] = sum_dya;
    }
}

struct GradSumsFinishParams {
    uint partial_off, variance_off, gamma_out_off, beta_out_off, sums_off;
    Chunks g;
    uint has_variance;  // 1: Σ dy·(x − μ) is scaled by 1/√(variance[c] + ε) (the inference gradient)
    uint has_gamma_out, has_beta_out;
    float epsilon;
};

// Per channel c: dβ = Σ dy and dγ = Σ dy·x̂ from the chunks' partial sums, into sums[c] and
// sums[channels + c], and into beta_out[c], gamma_out[c] where given.
kernel void column_grad_sums_finish(device const float* partial [[buffer(0)]],
                                    device const float* variance [[buffer(1)]],
                                    device float* gamma_out [[buffer(2)]], device float* beta_out [[buffer(3)]],
                                    device float* sums [[buffer(4)]],
                                    constant GradSumsFinishParams& p [[buffer(5)]],
                                    uint gid [[thread_position_in_grid]],
                                    uint lane [[thread_index_in_simdgroup]]) {
    const uint c = gid / 32;
    float sum_dy = 0.0f, sum_dya = 0.0f;
    if (c < p.g.channels) {
        for (uint k = lane; k < p.g.chunks; k += 32) {
            sum_dy += partial[p.partial_off + k * p.g.channels + c];
            sum_dya += partial[p.partial_off + (p.g.chunks + k) * p.g.channels + c];
        }
    }
    const float dbeta = simd_sum(sum_dy);
    float dgamma = simd_sum(sum_dya);
    if (lane == 0 && c < p.g.channels) {
        if (p.has_variance) dgamma *= precise::rsqrt(variance[p.variance_off + c] + p.epsilon);
        sums[p.sums_off + c] = dbeta;
        sums[p.sums_off + p.g.channels + c] = dgamma;
        if (p.has_gamma_out) gamma_out[p.gamma_out_off + c] = dgamma;
        if (p.has_beta_out) beta_out[p.beta_out_off + c] = dbeta;
    }
}

// ----------------------------------------------------------- per element ---
struct ApplyParams {
    uint x_off, mean_off, spread_off, gamma_off, beta_off, y_off, xhat_off;
    uint n, channels;
    uint has_mean;       // 0: μ = 0
    uint from_variance;  // 0: spread is r; 1: spread is σ², r = 1/√(σ² + ε)
    uint has_gamma, has_beta, has_xhat;
    float epsilon;
};

// y = γ·x̂ + β with x̂ = (x − μ)·r, per element of x[n / channels, channels], and x̂ into xhat where asked.
// The training forward (μ, r of the batch), the inference forward (the moving μ, σ²) and the inference
// gradient (dy·γ·r: no μ, no β). y may be x itself (each element is read before it is written).
kernel void batchnorm_apply(device const float* x [[buffer(0)]], device const float* mean [[buffer(1)]],
                            device const float* spread [[buffer(2)]], device const float* gamma [[buffer(3)]],
                            device const float* beta [[buffer(4)]], device float* y [[buffer(5)]],
                            device float* xhat [[buffer(6)]], constant ApplyParams& p [[buffer(7)]],
                            uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const uint c = i % p.channels;
        const float s = spread[p.spread_off + c];
        const float r = p.from_variance ? precise::rsqrt(s + p.epsilon) : s;
        const float centred = p.has_mean ? x[p.x_off + i] - mean[p.mean_off + c] : x[p.x_off + i];
        const float normalized = centred * r;
        if (p.has_xhat) xhat[p.xhat_off + i] = normalized;
        float value = p.has_gamma ? normalized * gamma[p.gamma_off + c] : normalized;
        if (p.has_beta) value += beta[p.beta_off + c];
        y[p.y_off + i] = value;
    }
}

struct BackwardParams {
    uint dy_off, xhat_off, inv_std_off, gamma_off, sums_off, out_off;
    uint n, channels;
    uint has_gamma;
    float inv_rows;  // 1/rows
};

// The training gradient, statistics differentiated: dx = r·γ·(dy − (Σdy + x̂·Σdy·x̂)/rows), with the
// column sums from column_grad_sums_finish. out may be dy itself.
kernel void batchnorm_backward(device const float* dy [[buffer(0)]], device const float* xhat [[buffer(1)]],
                               device const float* inv_std [[buffer(2)]], device const float* gamma [[buffer(3)]],
                               device const float* sums [[buffer(4)]], device float* out [[buffer(5)]],
                               constant BackwardParams& p [[buffer(6)]], uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const uint c = i % p.channels;
        float scale = inv_std[p.inv_std_off + c];
        if (p.has_gamma) scale *= gamma[p.gamma_off + c];
        const float sum_dy = sums[p.sums_off + c], sum_dyxhat = sums[p.sums_off + p.channels + c];
        const float mean_part = fma(xhat[p.xhat_off + i], sum_dyxhat, sum_dy) * p.inv_rows;
        out[p.out_off + i] = scale * (dy[p.dy_off + i] - mean_part);
    }
}

// ------------------------------------------------------------ layer norm ---
struct LayerParams {
    uint x_off, gamma_off, beta_off, y_off, xhat_off, inv_std_off;
    uint rows, cols;
    uint has_gamma, has_beta;
    float epsilon;
};

// Per row of x[rows, cols], one SIMD-group: μ = Σx/cols, then σ² = Σ(x − μ)²/cols (two passes), then
// x̂ = (x − μ)·r into xhat, y = γ·x̂ + β, r into inv_std[row]. y may be x itself.
kernel void layernorm(device const float* x [[buffer(0)]], device const float* gamma [[buffer(1)]],
                      device const float* beta [[buffer(2)]], device float* y [[buffer(3)]],
                      device float* xhat [[buffer(4)]], device float* inv_std [[buffer(5)]],
                      constant LayerParams& p [[buffer(6)]], uint gid [[thread_position_in_grid]],
                      uint lane [[thread_index_in_simdgroup]]) {
    const uint row = gid / 32;
    const bool live = row < p.rows;
    const uint start = row * p.cols;  // of the row, in elements of x, y and xhat past their offsets
    float total = 0.0f;
    if (live) {
        for (uint j = lane; j < p.cols; j += 32) total += x[p.x_off + start + j];
    }
    const float mean = simd_sum(total) / float(p.cols);
    float squares = 0.0f;
    if (live) {
        for (uint j = lane; j < p.cols; j += 32) {
            const float d = x[p.x_off + start + j] - mean;
            squares = fma(d, d, squares);
        }
    }
    const float r = precise::rsqrt(simd_sum(squares) / float(p.cols) + p.epsilon);
    if (live) {
        for (uint j = lane; j < p.cols; j += 32) {
            const float normalized = (x[p.x_off + start + j] - mean) * r;
            xhat[p.xhat_off + start + j] = normalized;
            float value = p.has_gamma ? normalized * gamma[p.gamma_off + j] : normalized;
            if (p.has_beta) value += beta[p.beta_off + j];
            y[p.y_off + start + j] = value;
        }
        if (lane == 0) inv_std[p.inv_std_off + row] = r;
    }
}

struct LayerBackwardParams {
    uint dy_off, gamma_off, xhat_off, inv_std_off, out_off;
    uint rows, cols;
    uint has_gamma;
};

// Per row, one SIMD-group: with g = γ·dy, dx = r·(g − mean(g) − x̂·mean(g·x̂)), the means along the row.
// out may be dy itself.
kernel void layernorm_backward(device const float* dy [[buffer(0)]], device const float* gamma [[buffer(1)]],
                               device const float* xhat [[buffer(2)]], device const float* inv_std [[buffer(3)]],
                               device float* out [[buffer(4)]], constant LayerBackwardParams& p [[buffer(5)]],
                               uint gid [[thread_position_in_grid]], uint lane [[thread_index_in_simdgroup]]) {
    const uint row = gid / 32;
    const bool live = row < p.rows;
    const uint start = row * p.cols;
    float sum_g = 0.0f, sum_gx = 0.0f;
    if (live) {
        for (uint j = lane; j < p.cols; j += 32) {
            const float g = p.has_gamma ? dy[p.dy_off + start + j] * gamma[p.gamma_off + j] : dy[p.dy_off + start + j];
            sum_g += g;
            sum_gx = fma(g, xhat[p.xhat_off + start + j], sum_gx);
        }
    }
    const float mean_g = simd_sum(sum_g) / float(p.cols), mean_gx = simd_sum(sum_gx) / float(p.cols);
    if (live) {
        const float r = inv_std[p.inv_std_off + row];
        for (uint j = lane; j < p.cols; j += 32) {
            const float g = p.has_gamma ? dy[p.dy_off + start + j] * gamma[p.gamma_off + j] : dy[p.dy_off + start + j];
            out[p.out_off + start + j] = r * (g - mean_g - xhat[p.xhat_off + start + j] * mean_gx);
        }
    }
}
