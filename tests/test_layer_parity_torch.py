"""Layers against PyTorch, forward and backward, in float64.

Weights are set identically (torch's Linear keeps weight as [out, in], the
transpose of seqnn's kernel [in, out]); both sides then run forward on the
same input and backward with the same upstream gradient, and dx and every
parameter gradient must agree to rounding.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from gradcheck import build64  # noqa: E402
from seqnn import activations, layers  # noqa: E402

RTOL, ATOL = 1e-12, 1e-14

# seqnn activation → the torch function with the same definition
TORCH_ACTIVATIONS = {
    "linear": (activations.Linear(), lambda z: z),
    "relu": (activations.ReLU(), F.relu),
    "leaky_relu": (activations.LeakyReLU(), lambda z: F.leaky_relu(z, 0.2)),
    "leaky_relu(0.01)": (activations.LeakyReLU(0.01), lambda z: F.leaky_relu(z, 0.01)),
    "elu": (activations.ELU(), F.elu),
    "elu(0.7)": (activations.ELU(alpha=0.7), lambda z: F.elu(z, alpha=0.7)),
    "selu": (activations.SELU(), F.selu),
    "gelu": (activations.GELU(), lambda z: F.gelu(z, approximate="none")),
    "gelu_tanh": (activations.GELU(approximate=True), lambda z: F.gelu(z, approximate="tanh")),
    "sigmoid": (activations.Sigmoid(), torch.sigmoid),
    "tanh": (activations.Tanh(), torch.tanh),
    "softplus": (activations.Softplus(), F.softplus),  # torch returns x itself beyond 20; inputs stay below
    "silu": (activations.SiLU(), F.silu),
    "softmax": (activations.Softmax(), lambda z: F.softmax(z, dim=-1)),
}


def t(a, grad=False):
    return torch.tensor(np.asarray(a, np.float64), dtype=torch.float64, requires_grad=grad)


def seqnn_pass(layer, x, r):
    y = np.array(layer.forward(x.copy()))
    dx = np.array(layer.backward(r.copy()))
    return y, dx, {k: np.array(g) for k, g in layer.grads.items()}


def close(a, b, what):
    np.testing.assert_allclose(a, b.detach().numpy() if hasattr(b, "detach") else b, rtol=RTOL, atol=ATOL,
                               err_msg=what)


@pytest.mark.parametrize("name", list(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("in_shape", [(6, 5), (2, 3, 5)], ids=["rank2", "rank3"])
def test_dense_matches_torch_linear(name, use_bias, in_shape):
    act, torch_act = TORCH_ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    units = 4
    layer = build64(layers.Dense(units, activation=act, use_bias=use_bias), in_shape[1:])
    kernel = rng.standard_normal((in_shape[-1], units))
    bias = rng.standard_normal(units)
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    x = rng.standard_normal(in_shape) * 2
    r = rng.standard_normal((*in_shape[:-1], units))

    linear = torch.nn.Linear(in_shape[-1], units, bias=use_bias, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(t(kernel.T))  # torch: [out, in]
        if use_bias:
            linear.bias.copy_(t(bias))
    xt = t(x, grad=True)
    yt = torch_act(linear(xt))
    yt.backward(t(r))

    y, dx, grads = seqnn_pass(layer, x, r)
    close(y, yt, "y")
    close(dx, xt.grad, "dx")
    close(grads["kernel"], linear.weight.grad.T, "kernel grad")
    if use_bias:
        close(grads["bias"], linear.bias.grad, "bias grad")
    else:
        assert "bias" not in grads


ACTIVATION_LAYERS = {
    "Activation(relu)": (lambda: layers.Activation("relu"), F.relu),
    "Activation(swish)": (lambda: layers.Activation("swish"), F.silu),
    "Activation(softplus)": (lambda: layers.Activation("softplus"), F.softplus),
    "ReLU": (layers.ReLU, F.relu),
    "ReLU(negative_slope)": (lambda: layers.ReLU(negative_slope=0.1), lambda z: F.leaky_relu(z, 0.1)),
    "LeakyReLU": (layers.LeakyReLU, lambda z: F.leaky_relu(z, 0.3)),
    "ELU": (lambda: layers.ELU(alpha=1.5), lambda z: F.elu(z, alpha=1.5)),
    "SELU": (layers.SELU, F.selu),
    "GELU": (layers.GELU, F.gelu),
    "GELU(approximate)": (lambda: layers.GELU(approximate=True), lambda z: F.gelu(z, approximate="tanh")),
    "Sigmoid": (layers.Sigmoid, torch.sigmoid),
    "Tanh": (layers.Tanh, torch.tanh),
    "Softmax": (layers.Softmax, lambda z: F.softmax(z, dim=-1)),
}


@pytest.mark.parametrize("name", list(ACTIVATION_LAYERS))
@pytest.mark.parametrize("shape", [(7, 6), (2, 3, 4)], ids=["rank2", "rank3"])
def test_activation_layer_matches_torch(name, shape):
    make, torch_fn = ACTIVATION_LAYERS[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3
    x.flat[:4] = [-12.0, 12.0, -30.0, 19.0]  # the tails too
    r = rng.standard_normal(shape)
    layer = build64(make(), shape[1:])
    xt = t(x, grad=True)
    yt = torch_fn(xt)
    yt.backward(t(r))
    y, dx, _ = seqnn_pass(layer, x, r)
    close(y, yt, "y")
    close(dx, xt.grad, "dx")


def test_flatten_and_reshape_match_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 4, 5))
    r = rng.standard_normal((3, 8, 5))
    layer = build64(layers.Reshape((-1, 5)), x.shape[1:])
    xt = t(x, grad=True)
    yt = xt.reshape(3, -1, 5)
    yt.backward(t(r))
    y, dx, _ = seqnn_pass(layer, x, r)
    close(y, yt, "y")
    close(dx, xt.grad, "dx")
    flat = build64(layers.Flatten(), x.shape[1:])
    np.testing.assert_array_equal(np.array(flat.forward(x)), torch.flatten(t(x), 1).numpy())
