"""The fused softmax cross-entropy on Metal (kernels/losses.metal), forward and gradient.

Sparse labels are int64 class indices in a Metal buffer (the kernels read
each as two uint words); dense targets are float32 rows. Other dtypes,
other shapes and ``out`` arrays the kernel cannot write run numpy on the
shared memory.
"""
from __future__ import annotations

import numpy as np


class LossOps:
    def softmax_cross_entropy(self, logits, labels, sparse):
        if not self._cross_entropy_ready(logits, labels, sparse):
            return self._numpy_fallback("softmax_cross_entropy", logits, labels, sparse)
        rows, classes = logits.shape
        loss = self._device.empty((rows,), np.float32)
        probs = self._device.empty((rows, classes), np.float32)
        kernel = "softmax_cross_entropy_sparse" if sparse else "softmax_cross_entropy_dense"
        self._device.run("losses", kernel, rows, (logits, labels, loss, probs), "II", rows, classes)
        return loss, probs

    def softmax_cross_entropy_backward(self, probs, labels, sparse, weights, out=None):
        ready = (self._cross_entropy_ready(probs, labels, sparse) and self._kernel_ready(weights)
                 and tuple(weights.shape) == probs.shape[:1]
                 and (out is None or (self._elementwise_ready(probs, out) and not np.may_share_memory(out, labels)
                                      and not np.may_share_memory(out, weights))))
        if not ready:
            return self._numpy_fallback("softmax_cross_entropy_backward", probs, labels, sparse, weights, out=out)
        out = self._device.empty(probs.shape, np.float32) if out is None else out
        rows, classes = probs.shape
        if sparse:
            self._device.run("losses", "softmax_cross_entropy_backward_sparse", probs.size,
                             (probs, labels, weights, out), "II", probs.size, classes)
        else:
            totals = self.sum(labels, axis=-1)
            self._device.run("losses", "softmax_cross_entropy_backward_dense", probs.size,
                             (probs, labels, totals, weights, out), "II", probs.size, classes)
        return out

    def _cross_entropy_ready(self, scores, labels, sparse) -> bool:
        """scores[N, C] (C ≥ 1) float32 in Metal buffers, with int64 labels[N] (sparse) or float32 targets[N, C]."""
        if not (self._kernel_ready(scores) and scores.ndim == 2 and scores.shape[1] > 0):
            return False
        if sparse:
            return (isinstance(labels, np.ndarray) and labels.dtype == np.int64 and labels.shape == scores.shape[:1]
                    and self._device.locate(labels) is not None)
        return self._kernel_ready(labels) and labels.shape == scores.shape
