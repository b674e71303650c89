// Fused softmax cross-entropy of the Metal backend, forward and gradient.
//
// Forward: one thread per row of logits[rows, classes] (classification rows
// are short): max, then Σ exp(x − max) written into probs, then the loss
// through log-sum-exp, finite for any finite logits, and probs divided by
// the sum. Gradient: one thread per element.
//
// Sparse labels are numpy int64 class indices. They are read as two uint
// words each (low word first: Apple GPUs are little-endian), which every MSL
// version has; the element offset in the params counts int64s. A label
// outside [0, classes) gives a NaN loss and a NaN gradient row instead of
// reading out of bounds (seqnn refuses such labels before training).
//
// Calling convention (seqnn/backends/metal/launch.py): arrays are bound as
// their whole Metal buffers, in order, and the params struct (the last
// buffer) starts with one element offset per bound array, in the same order.
#include <metal_stdlib>
using namespace metal;

// The class of sparse label r, or `classes` (no class) when it is out of range.
inline uint label_class(device const uint* labels, uint off, uint r, uint classes) {
    const uint low = labels[2 * (off + r)], high = labels[2 * (off + r) + 1];
    return high == 0 && low < classes ? low : classes;
}

// numpy's max propagates NaN; fmax would drop it.
inline float nan_max(float x, float y) { return x != x ? x : (x > y ? x : y); }

// Writes exp(x − max) to the row of probs; returns the row's max and Σ exp(x − max) (at least 1).
inline float2 exp_row(device const float* x, device float* probs, uint base, uint probs_base, uint classes) {
    float top = x[base];
    for (uint c = 1; c < classes; ++c) top = nan_max(x[base + c], top);
    float total = 0.0f;
    for (uint c = 0; c < classes; ++c) {
        const float e = exp(x[base + c] - top);
        probs[probs_base + c] = e;
        total += e;
    }
    return float2(top, total);
}

inline void normalize_row(device float* probs, uint probs_base, uint classes, float total) {
    for (uint c = 0; c < classes; ++c) probs[probs_base + c] = probs[probs_base + c] / total;
}

struct ForwardParams {
    uint logits_off, labels_off, loss_off, probs_off;
    uint rows, classes;
};

// loss[r] = log Σ exp(x − max) − (x[label] − max).
kernel void softmax_cross_entropy_sparse(device const float* logits [[buffer(0)]],
                                         device const uint* labels [[buffer(1)]],
                                         device float* loss [[buffer(2)]], device float* probs [[buffer(3)]],
                                         constant ForwardParams& p [[buffer(4)]],
                                         uint r [[thread_position_in_grid]]) {
    if (r < p.rows) {
        const uint base = p.logits_off + r * p.classes, probs_base = p.probs_off + r * p.classes;
        const float2 top_and_total = exp_row(logits, probs, base, probs_base, p.classes);
        const float top = top_and_total.x, log_total = log(top_and_total.y);
        const uint label = label_class(labels, p.labels_off, r, p.classes);
        loss[p.loss_off + r] = label < p.classes
            ? log_total - (logits[base + label] - top) : NAN;
        normalize_row(probs, probs_base, p.classes, top_and_total.y);
    }
}

// loss[r] = log Σ exp(x − max) · Σ t − Σ t·(x − max): targets that do not sum to one are allowed.
kernel void softmax_cross_entropy_dense(device const float* logits [[buffer(0)]],
                                        device const float* targets [[buffer(1)]],
                                        device float* loss [[buffer(2)]], device float* probs [[buffer(3)]],
                                        constant ForwardParams& p [[buffer(4)]],
                                        uint r [[thread_position_in_grid]]) {
    if (r < p.rows) {
        const uint base = p.logits_off + r * p.classes, probs_base = p.probs_off + r * p.classes;
        const uint targets_base = p.labels_off + r * p.classes;
        const float2 top_and_total = exp_row(logits, probs, base, probs_base, p.classes);
        const float top = top_and_total.x, log_total = log(top_and_total.y);
        float target_total = 0.0f, picked = 0.0f;
        for (uint c = 0; c < p.classes; ++c) {
            const float t = targets[targets_base + c];
            target_total += t;
            picked += t * (logits[base + c] - top);
        }
        loss[p.loss_off + r] = log_total * target_total - picked;
        normalize_row(probs, probs_base, p.classes, top_and_total.y);
    }
}

struct SparseBackwardParams {
    uint probs_off, labels_off, weights_off, out_off;
    uint n, classes;
};

// out = weights[r] · (probs − onehot(label)); out may be probs itself (read before written).
kernel void softmax_cross_entropy_backward_sparse(device const float* probs [[buffer(0)]],
                                                  device const uint* labels [[buffer(1)]],
                                                  device const float* weights [[buffer(2)]],
                                                  device float* out [[buffer(3)]],
                                                  constant SparseBackwardParams& p [[buffer(4)]],
                                                  uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const uint r = i / p.classes, c = i % p.classes;
        const uint label = label_class(labels, p.labels_off, r, p.classes);
        const float onehot = c == label ? 1.0f : 0.0f;
        out[p.out_off + i] = label < p.classes ? weights[p.weights_off + r] * (probs[p.probs_off + i] - onehot)
                                               : NAN;
    }
}

struct DenseBackwardParams {
    uint probs_off, targets_off, totals_off, weights_off, out_off;
    uint n, classes;
};

// out = weights[r] · (probs · Σ t − t), with the row sums Σ t precomputed (totals[rows]).
kernel void softmax_cross_entropy_backward_dense(device const float* probs [[buffer(0)]],
                                                 device const float* targets [[buffer(1)]],
                                                 device const float* totals [[buffer(2)]],
                                                 device const float* weights [[buffer(3)]],
                                                 device float* out [[buffer(4)]],
                                                 constant DenseBackwardParams& p [[buffer(5)]],
                                                 uint i [[thread_position_in_grid]]) {
    if (i < p.n) {
        const uint r = i / p.classes;
        out[p.out_off + i] = weights[p.weights_off + r] *
                             (probs[p.probs_off + i] * totals[p.totals_off + r] - targets[p.targets_off + i]);
    }
}
