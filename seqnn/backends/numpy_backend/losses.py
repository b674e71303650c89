"""Numerically stable fused cross-entropies on numpy."""
import numpy as np


class LossOps:
    def softmax_cross_entropy(self, logits, labels, sparse):
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=-1, keepdims=True)
        probs = exp
        probs /= sum_exp
        log_z = np.log(sum_exp)[:, 0]
        if sparse:
            picked = shifted[np.arange(len(labels)), labels]
            loss = log_z - picked
        else:
            # -sum_c t_c (shifted_c - log_z) = log_z * sum_c t_c - sum_c t_c shifted_c
            loss = log_z * labels.sum(axis=-1) - np.einsum("ij,ij->i", labels, shifted)
        return loss.astype(logits.dtype, copy=False), probs

    def softmax_cross_entropy_backward(self, probs, labels, sparse, weights, out=None):
        if sparse:
            if out is None:
                out = probs.copy()
            else:
                np.copyto(out, probs)
            out[np.arange(len(labels)), labels] -= 1.0
            out *= weights[:, None]
            return out
        # For targets that do not sum to one the gradient is probs*sum(t) - t.
        total = labels.sum(axis=-1, keepdims=True)
        out = np.multiply(probs, total, out=out)
        out -= labels
        out *= weights[:, None]
        return out

    def sigmoid_cross_entropy(self, logits, targets):
        import scipy.special

        loss = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
        return loss.astype(logits.dtype, copy=False), scipy.special.expit(logits)
