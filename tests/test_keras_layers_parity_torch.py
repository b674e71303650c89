"""Conv2DTranspose, Conv1DTranspose, UpSampling2D, Cropping, Permute and RepeatVector against PyTorch, in float64.

Keras's transposed-convolution padding cannot always be expressed by torch's
symmetric ``padding`` plus ``output_padding`` (Keras's own torch backend
warns about it), so the torch side computes the full transposed convolution
(padding 0) and cuts the Keras output out of it with ``F.pad`` (negative
amounts crop, positive ones add the zero rows that no input reaches). The
offsets come from Keras's padding rule, written out in
test_keras_layers_gradients.py.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from gradcheck import build64  # noqa: E402
from test_keras_layers_gradients import CONV_T_CASES, keras_left_crop  # noqa: E402
from torch_layout import close, nchw, nhwc, run_layer, t  # noqa: E402
from seqnn import layers  # noqa: E402


def cut(full, starts, sizes):
    """full[..., starts[i]:starts[i] + sizes[i]] over the trailing axes, zero-extended past the end (F.pad)."""
    pads = []
    for start, size, have in reversed(list(zip(starts, sizes, full.shape[2:]))):
        pads += [-start, start + size - have]
    return F.pad(full, pads)


def run_random(layer, sample_shape, seed):
    """Build ``layer`` for ``sample_shape``, give it standard-normal weights and run it on a random batch of 2.

    Returns (kernel, bias, x, r, y, dx, grads): r is the upstream gradient, the rest as :func:`run_layer`.
    """
    rng = np.random.default_rng(seed)
    build64(layer, sample_shape)
    kernel, bias = (rng.standard_normal(w.shape) for w in layer.get_weights())
    layer.set_weights([kernel, bias])
    x = rng.standard_normal((2, *sample_shape))
    r = rng.standard_normal((2, *layer.output_shape[1:]))
    return (kernel, bias, x, r, *run_layer(layer, x, r))


@pytest.mark.parametrize("padding, strides, output_padding, dilation", CONV_T_CASES)
def test_conv2d_transpose_matches_torch(padding, strides, output_padding, dilation):
    layer = layers.Conv2DTranspose(4, (3, 2), strides=strides, padding=padding, output_padding=output_padding,
                                   dilation_rate=dilation)
    kernel, bias, x, r, y, dx, grads = run_random(layer, (4, 5, 3), 0)
    s, d = layer.strides, layer.dilation_rate
    op = (None, None) if output_padding is None else layer.output_padding
    starts = [keras_left_crop(k, s[i], d[i], padding, op[i]) for i, k in enumerate((3, 2))]
    xt = t(nchw(x), grad=True)
    wt = t(kernel.transpose(3, 2, 0, 1), grad=True)   # torch: [in, out, kh, kw]
    bt = t(bias, grad=True)
    full = F.conv_transpose2d(xt, wt, None, stride=s, dilation=d)
    yt = cut(full, starts, layer.output_shape[1:3]) + bt[:, None, None]
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")
    close(grads["kernel"], wt.grad.numpy().transpose(2, 3, 1, 0), "kernel grad")
    close(grads["bias"], bt.grad.numpy(), "bias grad")


def test_conv2d_transpose_same_stride_2_is_tensorflow_not_torch_padding_1():
    # The common decoder block: kernel 3, stride 2, "same". As in TensorFlow and JAX (and the gradient of a
    # "same" Conv2D, whose extra padding goes after the image) it is torch's full output minus its last row
    # and column; torch's padding=1, output_padding=1 (what Keras's torch backend uses) is shifted by one.
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="relu")
    kernel, bias, x, r, y, dx, grads = run_random(layer, (3, 4, 5), 1)
    assert y.shape == (2, 6, 8, 2)
    xt, wt = t(nchw(x), grad=True), t(kernel.transpose(3, 2, 0, 1), grad=True)
    yt = torch.relu(F.conv_transpose2d(xt, wt, t(bias), stride=2)[:, :, :6, :8])
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")
    close(grads["kernel"], wt.grad.numpy().transpose(2, 3, 1, 0), "kernel grad")
    shifted = torch.relu(F.conv_transpose2d(t(nchw(x)), wt, t(bias), stride=2, padding=1, output_padding=1))
    assert shifted.shape == yt.shape and not np.allclose(y, nhwc(shifted))


@pytest.mark.parametrize("padding, strides, output_padding", [("valid", 2, None), ("same", 3, 1), ("same", 1, None)])
def test_conv1d_transpose_matches_torch(padding, strides, output_padding):
    layer = layers.Conv1DTranspose(3, 4, strides=strides, padding=padding, output_padding=output_padding,
                                   activation="tanh")
    kernel, bias, x, r, y, dx, grads = run_random(layer, (6, 2), 2)
    xt, wt, bt = t(x.transpose(0, 2, 1), grad=True), t(kernel.transpose(2, 1, 0), grad=True), t(bias, grad=True)
    start = keras_left_crop(4, strides, 1, padding, output_padding)
    full = F.conv_transpose1d(xt, wt, None, stride=strides)
    yt = torch.tanh(cut(full, [start], layer.output_shape[1:2]) + bt[:, None])
    yt.backward(t(r.transpose(0, 2, 1)))
    close(y, yt.detach().numpy().transpose(0, 2, 1), "y")
    close(dx, xt.grad.numpy().transpose(0, 2, 1), "dx")
    close(grads["kernel"], wt.grad.numpy().transpose(2, 1, 0), "kernel grad")
    close(grads["bias"], bt.grad.numpy(), "bias grad")


@pytest.mark.parametrize("size", [2, (3, 2), (1, 4)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_upsampling2d_matches_torch(size, interpolation):
    rng = np.random.default_rng(3)
    layer = build64(layers.UpSampling2D(size, interpolation=interpolation), (3, 5, 2))
    x = rng.standard_normal((2, 3, 5, 2))
    r = rng.standard_normal((2, *layer.output_shape[1:]))
    y, dx, _ = run_layer(layer, x, r)
    xt = t(nchw(x), grad=True)
    extra = {"align_corners": False} if interpolation == "bilinear" else {}
    yt = torch.nn.Upsample(scale_factor=layer.size, mode=interpolation, **extra)(xt)
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")


def test_cropping_permute_repeat_vector_match_torch():
    rng = np.random.default_rng(4)
    cases = [
        (layers.Cropping2D(((1, 2), (0, 3))), (5, 6, 2), lambda a: a[:, 1:3, 0:3]),
        (layers.Cropping1D((2, 1)), (6, 3), lambda a: a[:, 2:5]),
        (layers.Permute((3, 1, 2)), (2, 3, 4), lambda a: a.permute(0, 3, 1, 2)),
        (layers.RepeatVector(3), (4,), lambda a: a[:, None].expand(-1, 3, -1)),
    ]
    for layer, shape, torch_fn in cases:
        build64(layer, shape)
        x = rng.standard_normal((2, *shape))
        r = rng.standard_normal((2, *layer.output_shape[1:]))
        y, dx, _ = run_layer(layer, x, r)
        xt = t(x, grad=True)
        yt = torch_fn(xt)
        yt.backward(t(r))
        close(y, yt.detach().numpy(), f"{type(layer).__name__} y")
        close(dx, xt.grad.numpy(), f"{type(layer).__name__} dx")
