"""Matrix products and bias ops on numpy (BLAS sgemm/dgemm underneath)."""
import numpy as np

from .blas import matmul


class LinalgOps:
    def gemm(self, a, b, out=None, trans_a=False, trans_b=False):
        # a.T of a C-contiguous array is F-contiguous, which numpy hands to
        # BLAS as a transpose flag: no copy is made in any of the forms.
        a, b = a.T if trans_a else a, b.T if trans_b else b
        if out is None:
            out = np.empty((*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1]),
                           np.result_type(a, b))
        return matmul(a, b, out)

    def bias_add(self, x, bias, out=None):
        return np.add(x, bias, out=out)

    def bias_grad(self, dy, out=None):
        rows = dy.reshape(-1, dy.shape[-1])
        return np.sum(rows, axis=0, out=out)
