"""Conv1D / Conv2D / ZeroPadding2D against PyTorch, forward and backward, in float64.

seqnn is channels-last with kernels [kh, kw, cin, cout] (Keras); torch is
channels-first with weights [cout, cin, kh, kw]. Inputs are permuted NHWC →
NCHW, kernels [kh, kw, cin, cout] → [cout, cin, kh, kw], and outputs and
gradients back. Keras's "same" padding may be asymmetric (the extra row or
column at the end), which torch's ``padding=`` cannot express, so the torch
side pads explicitly with F.pad using the layer's own padding amounts.
"""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import seqnn as sn  # noqa: E402
from gradcheck import build64  # noqa: E402
from torch_layout import close, nchw, nhwc, t  # noqa: E402
from torch_layout import run_layer as run_seqnn  # noqa: E402
from seqnn import layers  # noqa: E402


@pytest.mark.parametrize("padding, strides, dilation, use_bias",
                         [(*c, True) for c in itertools.product(["valid", "same"], [1, 2, (2, 1)], [1, 2])]
                         + [("same", 1, 1, False), ("valid", 2, 1, False)])
@pytest.mark.parametrize("cin", [1, 3])
def test_conv2d_matches_torch(padding, strides, dilation, use_bias, cin):
    rng = np.random.default_rng(0)
    layer = build64(layers.Conv2D(4, (3, 2), strides=strides, padding=padding, dilation_rate=dilation,
                                  use_bias=use_bias), (7, 6, cin))
    kernel, bias = rng.standard_normal((3, 2, cin, 4)), rng.standard_normal(4)
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    x = rng.standard_normal((3, 7, 6, cin))
    r = rng.standard_normal((3, *layer.output_shape[1:]))
    y, dx, grads = run_seqnn(layer, x, r)

    (top, bottom), (left, right) = layer._padding2d
    xt = t(nchw(x), grad=True)
    wt = t(kernel.transpose(3, 2, 0, 1), grad=True)
    bt = t(bias, grad=True) if use_bias else None
    yt = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=layer._strides2d,
                  dilation=layer._dilation2d)
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")
    close(grads["kernel"], wt.grad.numpy().transpose(2, 3, 1, 0), "kernel grad")
    if use_bias:
        close(grads["bias"], bt.grad.numpy(), "bias grad")


@pytest.mark.parametrize("padding, strides, dilation",
                         list(itertools.product(["valid", "same", "causal"], [1, 3], [1, 2])))
def test_conv1d_matches_torch(padding, strides, dilation):
    rng = np.random.default_rng(1)
    layer = build64(layers.Conv1D(3, 4, strides=strides, padding=padding, dilation_rate=dilation,
                                  activation="tanh"), (11, 2))
    kernel, bias = rng.standard_normal((4, 2, 3)), rng.standard_normal(3)
    layer.set_weights([kernel, bias])
    x = rng.standard_normal((2, 11, 2))
    r = rng.standard_normal((2, *layer.output_shape[1:]))
    y, dx, grads = run_seqnn(layer, x, r)

    before, after = layer._padding2d[1]
    xt = t(x.transpose(0, 2, 1), grad=True)
    wt = t(kernel.transpose(2, 1, 0), grad=True)
    bt = t(bias, grad=True)
    yt = torch.tanh(F.conv1d(F.pad(xt, (before, after)), wt, bt, stride=strides, dilation=dilation))
    yt.backward(t(r.transpose(0, 2, 1)))
    close(y, yt.detach().numpy().transpose(0, 2, 1), "y")
    close(dx, xt.grad.numpy().transpose(0, 2, 1), "dx")
    close(grads["kernel"], wt.grad.numpy().transpose(2, 1, 0), "kernel grad")
    close(grads["bias"], bt.grad.numpy(), "bias grad")


def test_conv2d_relu_stack_matches_torch_in_float32():
    # The benchmark's first block in float32, at a realistic size: rounding-level agreement.
    rng = np.random.default_rng(2)
    layer = layers.Conv2D(32, 3, activation="relu")
    layer.build_for((None, 28, 28, 1), sn.backends.get("numpy"), "float32")
    kernel = (rng.standard_normal((3, 3, 1, 32)) * 0.3).astype(np.float32)
    bias = (rng.standard_normal(32) * 0.1).astype(np.float32)
    layer.set_weights([kernel, bias])
    x = rng.random((16, 28, 28, 1)).astype(np.float32)
    r = rng.standard_normal((16, 26, 26, 32)).astype(np.float32)
    y = np.array(layer.forward(x, training=True))
    layer.backward(r.copy(), need_input_grad=False)
    xt = torch.tensor(nchw(x))
    wt = torch.tensor(kernel.transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    yt = torch.relu(F.conv2d(xt, wt, bt))
    yt.backward(torch.tensor(nchw(r)))
    np.testing.assert_allclose(y, nhwc(yt), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.grads["kernel"], wt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(layer.grads["bias"], bt.grad.numpy(), rtol=1e-4, atol=1e-2)


def test_zero_padding2d_matches_torch():
    rng = np.random.default_rng(3)
    layer = build64(layers.ZeroPadding2D(((1, 2), (3, 0))), (4, 5, 2))
    x = rng.standard_normal((2, 4, 5, 2))
    r = rng.standard_normal((2, 7, 8, 2))
    y, dx, _ = run_seqnn(layer, x, r)
    xt = t(nchw(x), grad=True)
    yt = F.pad(xt, (3, 0, 1, 2))
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")
