"""The backend contract: every op that layers, losses and optimizers may call.

A backend owns its arrays (numpy arrays, Metal buffers, device arrays) and
implements the ops below on them. Layers never touch numpy directly: they call
``self.backend.<op>``, so the same layer code runs on every backend. numpy is
the reference implementation (``seqnn.backends.numpy_backend``); every other
backend is tested op by op against it.

Conventions shared by all ops:

* ``out=`` names a preallocated array to write into and is returned; when it is
  None a new array is allocated. An ``out`` may alias an input wherever the op
  is elementwise (in-place ReLU, say).
* Arrays are C-contiguous, float32 or float64 (labels: int64). Shapes keep the
  batch dimension first.
* Scalars going in (learning rates, slopes) are Python floats. A reduction
  over every element returns a 0-d array of the backend, not a Python float:
  reading a number back waits for the device, so the training loop does it
  once per step (``item``), for the logs, and nowhere else.

What a backend's arrays must support, beyond the ops (layers, the parameter
arena and the workspace buffers rely on it):

* ``a.shape`` (a tuple of ints), ``a.ndim`` and ``a.dtype`` (comparable with
  ``"float32"``, ``"float64"``, ``"int64"``);
* ``a.reshape(*shape)`` of a C-contiguous array: a view that shares memory
  (the arena hands each layer reshaped pieces of one flat vector, and the
  optimizer's update of the flat vector must be what the layers see);
* basic slices along the first axis, ``a[:n]`` and ``flat[i:j]``: views that
  share memory (workspace buffers sized for the largest batch serve a short
  last batch through ``buf[:n]``).

Nothing else: no fancy indexing, arithmetic operators or numpy functions on a
backend's arrays outside the backend itself. Host data goes in with
``asarray`` and comes out with ``to_numpy``.

The ops are grouped by family; each family is documented once here and
implemented by the backend in a module of its own.
"""
from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Sequence

from .fused import FusedOps

Array = Any  # the backend's own array type


class Backend(FusedOps):
    """Abstract base class. ``name`` is what ``compile(backend=...)`` accepts."""

    name: str = "abstract"
    # The float dtypes the backend computes in; compile(dtype=...) refuses others.
    float_dtypes: tuple[str, ...] = ("float32", "float64")

    # ------------------------------------------------------------ arrays ---
    def asarray(self, x: Any, dtype: str | None = None) -> Array:
        """Array on this backend from host data (a copy unless it already is one)."""
        raise NotImplementedError

    def to_numpy(self, a: Array) -> Any:
        """Host numpy copy (or zero-copy view where memory is shared)."""
        raise NotImplementedError

    def empty(self, shape: Sequence[int], dtype: str) -> Array:
        raise NotImplementedError

    def zeros(self, shape: Sequence[int], dtype: str) -> Array:
        raise NotImplementedError

    def full(self, shape: Sequence[int], value: float, dtype: str) -> Array:
        raise NotImplementedError

    def step_scope(self, tuners: dict, key: Any, rows: int) -> ContextManager:
        """The context one step (a training, evaluation or inference batch of ``rows`` rows) runs in.

        A backend that can run a step more than one way picks the way here and
        may time the step to choose better next time, keeping what it learns in
        ``tuners`` (the model's, by ``key``: the kind of step and the shape of
        a sample). The numpy backend chooses BLAS's threads this way
        (:mod:`seqnn.backends.numpy_backend.thread_tuning`); the default does nothing.
        """
        return contextlib.nullcontext()

    def item(self, a: Array) -> float:
        """A 0-d (or one-element) array's value as a Python float: waits for the device."""
        return float(self.to_numpy(a).reshape(-1)[0])

    def copy_into(self, dst: Array, src: Array) -> Array:
        """dst[...] = src (src may be host data, and broadcasts numpy-style to dst); returns dst."""
        raise NotImplementedError

    def transpose(self, a: Array, axes: Sequence[int], out: Array | None = None) -> Array:
        """A C-contiguous copy of ``a`` with its axes in the order ``axes`` (numpy's ``transpose``)."""
        raise NotImplementedError

    def fill(self, a: Array, value: float) -> Array:
        raise NotImplementedError

    # ---------------------------------------- elementwise and reductions ---
    # Binary ops broadcast numpy-style; an operand may be a Python float. These serve losses, regularizers and
    # metrics-free bookkeeping; the hot paths have fused ops below.
    def add(self, a, b, out=None): raise NotImplementedError
    def subtract(self, a, b, out=None): raise NotImplementedError
    def multiply(self, a, b, out=None): raise NotImplementedError
    def divide(self, a, b, out=None): raise NotImplementedError
    def maximum(self, a, b, out=None): raise NotImplementedError
    def minimum(self, a, b, out=None): raise NotImplementedError
    def square(self, a, out=None): raise NotImplementedError
    def sqrt(self, a, out=None): raise NotImplementedError
    def abs(self, a, out=None): raise NotImplementedError
    def sign(self, a, out=None): raise NotImplementedError
    def exp(self, a, out=None): raise NotImplementedError
    def log(self, a, out=None): raise NotImplementedError
    def clip(self, a, lo: float, hi: float, out=None): raise NotImplementedError
    def where(self, cond, a, b, out=None): raise NotImplementedError
    def less_equal(self, a, b): raise NotImplementedError

    def sum(self, a, axis: int | None = None, keepdims: bool = False, out=None):
        """Sum; with ``axis=None`` a 0-d array."""
        raise NotImplementedError

    def max(self, a, axis: int | None = None, keepdims: bool = False):
        """Largest element (NaN if any is NaN); with ``axis=None`` a 0-d array.

        Row maxima for losses (the categorical hinge's strongest wrong class).
        """
        raise NotImplementedError

    def argmax(self, a, axis: int = -1): raise NotImplementedError

    # ------------------------------------------------------------ linalg ---
    def gemm(self, a, b, out=None, trans_a: bool = False, trans_b: bool = False):
        """op(a) @ op(b) for 2-D arrays, op = transpose when asked.

        The NN form is the forward pass, NT is the input gradient (dy @ W.T) and
        TN the weight gradient (x.T @ dy); no transposed copy is ever made.
        """
        raise NotImplementedError

    # ------------------------------------------------------- activations ---
    # forward(x, out) computes y; backward(dy, x, y, out) computes dx from the
    # upstream gradient and whichever of x (input) and y (output) the rule
    # needs (the other may be None; see seqnn.activations). Backward may write
    # into dy (out=dy).
    def gelu(self, x, approximate: bool, out=None): raise NotImplementedError
    def gelu_backward(self, dy, x, y, approximate: bool, out=None): raise NotImplementedError
    # The other activations have defaults in the core ops (seqnn.backends.fused).

    # --------------------------------------------------- fused losses ---
    def softmax_cross_entropy(self, logits, labels, sparse: bool):
        """Per-sample -log softmax(logits)[label] and the softmax probabilities.

        ``labels`` are int64 class indices (sparse) or rows of target
        probabilities. Computed through log-sum-exp: finite for any finite
        logits. Returns (loss[N], probs[N, C]).
        """
        raise NotImplementedError

    def softmax_cross_entropy_backward(self, probs, labels, sparse: bool, weights, out=None):
        """d(sum_i weights[i] * loss_i)/d logits = weights[:, None] * (probs - onehot)."""
        raise NotImplementedError

    # Optimizer updates (one fused, in-place update of the whole flat
    # ParameterArena and the optimizer's slots), scaling and clipping have
    # defaults in the core ops: see seqnn.backends.fused.

    # ------------------------------------------------------------ random ---
    def rng(self, seed: int):
        """A counter-based random generator keyed by ``seed``; its ``state`` is a JSON-able dict."""
        raise NotImplementedError

    def dropout(self, x, rate: float, rng, out=None, mask_out=None):
        """Inverted dropout: returns (y, mask) with mask in {0, 1/(1-rate)} and y = x * mask."""
        raise NotImplementedError

    def gaussian_noise(self, x, stddev: float, rng, out=None):
        """y = x + ε with ε ~ N(0, stddev²) drawn elementwise from ``rng``."""
        raise NotImplementedError

    # ------------------------------- convolution / pooling / normalization ---
    # Images are channels-last, x[N, H, W, C], as in Keras; 1-D layers use
    # these ops with H = 1 (x[N, 1, L, C] and a kernel [1, K, Cin, Cout], both
    # free reshapes). Kernels are [KH, KW, Cin, Cout], Keras's layout.
    #
    # ``strides`` and ``dilation`` are (sh, sw) and (dh, dw); ``padding`` is
    # explicit, ((top, bottom), (left, right)) rows and columns added around
    # each image (the layers translate Keras's "valid" / "same" / "causal"
    # into it). An output row i reads input rows i·sh − top + a·dh for
    # a = 0 … KH − 1 (columns alike), so per axis
    #     OH = (H + top + bottom − dh·(KH − 1) − 1) // sh + 1.
    # Convolution pads with zeros, max pooling with −∞, and average pooling
    # divides by the number of real (unpadded) inputs in each window, as Keras.
    #
    # ``scratch(key, shape, dtype)`` hands out working memory that lives
    # across calls (``Layer.buffer``: sized for the largest batch, reused, so
    # a step allocates nothing); None lets the op allocate. A forward op
    # returns, besides y, a ``saved`` value that only the matching backward
    # ops read (the im2col patches, argmax indices, normalized inputs); the
    # layer passes it back unchanged in the same step and never looks inside.
    # Backward ops may overwrite ``dy``.
    def conv2d(self, x, kernel, bias, strides, padding, dilation, scratch=None, out=None,
               save_for_backward: bool = True):
        """Cross-correlation, y[n, i, j, o] = Σ_{a,b,c} x̃[n, i·sh + a·dh, j·sw + b·dw, c]·k[a, b, c, o] + bias[o].

        x̃ is x zero-padded by ``padding``; ``bias`` may be None. Returns (y, saved);
        ``saved`` feeds :meth:`conv2d_backward_kernel` (pass ``save_for_backward=False``
        at inference, which lets the op work in memory-bounded chunks).
        """
        raise NotImplementedError

    def conv2d_backward_kernel(self, dy, x, saved, kernel_shape, strides, padding, dilation, scratch=None,
                               out=None, bias_out=None):
        """dL/dk[a, b, c, o] = Σ_{n,i,j} x̃[n, i·sh + a·dh, j·sw + b·dw, c]·dy[n, i, j, o].

        With ``bias_out`` it also writes dL/dbias[o] = Σ_{n,i,j} dy[n, i, j, o].
        ``saved`` is what :meth:`conv2d` returned, or None (the op then works
        from x alone). Returns the kernel gradient (``out`` when given).
        """
        raise NotImplementedError

    def conv2d_backward_input(self, dy, kernel, x_shape, strides, padding, dilation, scratch=None, out=None):
        """dL/dx (shape ``x_shape``): the adjoint of the forward map (col2im of dy·kernelᵀ); padding is cropped."""
        raise NotImplementedError

    def pad2d(self, x, padding, out=None):
        """x zero-padded to [N, H + top + bottom, W + left + right, C]."""
        raise NotImplementedError

    def pad2d_backward(self, dy, padding, out=None):
        """The adjoint of :meth:`pad2d`: dy with the padding cropped off."""
        raise NotImplementedError

    def maxpool2d(self, x, pool_size, strides, padding, scratch=None, out=None):
        """Window maxima, y[n, i, j, c] = max_{a<ph, b<pw} x̃[n, i·sh + a, j·sw + b, c] (x̃: −∞-padded).

        Returns (y, indices): which window entry won (the first on ties, as
        PyTorch), for :meth:`maxpool2d_backward`. The numpy backend's indices are
        int8 (int16 for windows over 127 entries) flat offsets a·pw + b, shaped like y.
        """
        raise NotImplementedError

    def maxpool2d_backward(self, dy, indices, x_shape, pool_size, strides, padding, scratch=None, out=None):
        """dL/dx: each dy entry added to the input its window's maximum came from."""
        raise NotImplementedError

    def avgpool2d(self, x, pool_size, strides, padding, scratch=None, out=None):
        """Window means over the real inputs (padding is not counted)."""
        raise NotImplementedError

    def avgpool2d_backward(self, dy, x_shape, pool_size, strides, padding, scratch=None, out=None):
        """dL/dx: each dy entry spread evenly over the real inputs of its window."""
        raise NotImplementedError

    def global_avgpool(self, x, out=None):
        """Mean over the middle axis: x[N, S, C] → y[N, C] (S = all spatial positions)."""
        raise NotImplementedError

    def global_avgpool_backward(self, dy, spatial: int, out=None):
        """dL/dx[N, S, C] = dy[N, C] / S, broadcast over S."""
        raise NotImplementedError

    def global_maxpool(self, x, out=None):
        """Max over the middle axis of x[N, S, C]: returns (y[N, C], indices[N, C]) (first max on ties)."""
        raise NotImplementedError

    def global_maxpool_backward(self, dy, indices, spatial: int, out=None):
        """dL/dx[N, S, C]: dy[n, c] at s = indices[n, c], zero elsewhere."""
        raise NotImplementedError

    def batchnorm_train(self, x, gamma, beta, moving_mean, moving_variance, momentum: float,
                        epsilon: float, scratch=None, out=None):
        """Batch normalization of x[M, C] with the batch's statistics, per channel.

        μ, σ² = mean and biased variance over M; y = γ·(x − μ)/√(σ² + ε) + β
        (γ None: 1, β None: 0). The moving statistics are updated in place,
        moving ← momentum·moving + (1 − momentum)·batch (σ² uncorrected, as
        Keras). Returns (y, saved).
        """
        raise NotImplementedError

    def batchnorm_infer(self, x, gamma, beta, moving_mean, moving_variance, epsilon: float, out=None):
        """y = γ·(x − moving_mean)/√(moving_variance + ε) + β for x[M, C]."""
        raise NotImplementedError

    def batchnorm_infer_backward(self, dy, x, gamma, moving_mean, moving_variance, epsilon: float,
                                 gamma_out=None, beta_out=None, out=None):
        """dL/dx = dy·γ/√(moving_variance + ε) of :meth:`batchnorm_infer`; fills dγ, dβ where given."""
        raise NotImplementedError

    def batchnorm_backward(self, dy, gamma, saved, gamma_out=None, beta_out=None, out=None):
        """dL/dx of :meth:`batchnorm_train` (statistics differentiated too); fills dγ, dβ where given."""
        raise NotImplementedError

    def layernorm(self, x, gamma, beta, epsilon: float, scratch=None, out=None):
        """Per-row normalization of x[M, D]: y = γ·(x − μ_row)/√(σ²_row + ε) + β. Returns (y, saved)."""
        raise NotImplementedError

    def layernorm_backward(self, dy, gamma, saved, gamma_out=None, beta_out=None, out=None):
        """dL/dx of :meth:`layernorm`; fills dγ, dβ (sums over rows) where given."""
        raise NotImplementedError

    # -------------------------------------------------------- resampling ---
    # Integer-factor upsampling of channels-last images x[N, H, W, C] to
    # y[N, H·sh, W·sw, C], ``size`` = (sh, sw). "nearest" repeats each pixel
    # sh × sw times, y[n, i, j, c] = x[n, i // sh, j // sw, c]. "bilinear"
    # interpolates with half-pixel centres (source row (i + ½)/sh − ½, clamped
    # to [0, H − 1]; columns alike), which is TensorFlow's / JAX's resize and
    # PyTorch's ``align_corners=False``.
    def upsample2d(self, x, size, interpolation: str = "nearest", out=None):
        """x upsampled by ``size`` with ``interpolation`` ("nearest" or "bilinear")."""
        raise NotImplementedError

    def upsample2d_backward(self, dy, size, interpolation: str = "nearest", out=None):
        """dL/dx of :meth:`upsample2d` (nearest: each sh × sw block of dy summed)."""
        raise NotImplementedError
