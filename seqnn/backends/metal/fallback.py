"""Core ops that have no Metal kernel yet: the numpy backend's code on the shared memory.

The backend's arrays are numpy arrays (their memory is a Metal buffer), so
the numpy backend's implementation runs on them unchanged, writing ``out=``
and ``scratch`` arrays in place. What numpy allocates is moved into a Metal
buffer before it is returned, so a later kernel can take it. Each op here is
a candidate for a kernel; ops that have kernels fall back the same way for
the cases their kernels do not cover (another broadcast, another dtype).
"""
from __future__ import annotations

# Every core op of the contract (seqnn.backends.base) without a Metal kernel;
# tests/test_metal_backend.py checks that each core op is here or has a kernel.
NUMPY_OPS = (
    "conv2d", "conv2d_backward_kernel", "conv2d_backward_input", "pad2d", "pad2d_backward",  # conv
    "maxpool2d", "maxpool2d_backward", "avgpool2d", "avgpool2d_backward",  # pooling
    "global_avgpool", "global_avgpool_backward", "global_maxpool", "global_maxpool_backward",  # pooling
    "upsample2d", "upsample2d_backward",  # pooling (resampling)
    "batchnorm_train", "batchnorm_infer", "batchnorm_infer_backward", "batchnorm_backward",  # normalization
    "layernorm", "layernorm_backward",  # normalization
)


class NumpyFallback:
    """Runs ops on ``self._numpy`` (a NumpyBackend) and returns Metal-backed results."""

    def _numpy_fallback(self, op: str, *args, **kwargs):
        return self._on_device(getattr(self._numpy, op)(*args, **kwargs))


def _delegate(op: str):
    def method(self, *args, **kwargs):
        return self._numpy_fallback(op, *args, **kwargs)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"The numpy backend's ``{op}`` on the shared memory (no Metal kernel yet)."
    return method


for _op in NUMPY_OPS:
    setattr(NumpyFallback, _op, _delegate(_op))
