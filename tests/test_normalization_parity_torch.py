"""BatchNormalization and LayerNormalization against PyTorch, forward and backward, in float64.

Conventions differ in two places: torch's BatchNorm momentum is the weight of
the *new* batch (1 − Keras's momentum), and its running variance uses the
unbiased batch variance where Keras uses the biased one. The moving-variance
comparison converts between the two.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from gradcheck import build64  # noqa: E402
from seqnn import layers  # noqa: E402

RTOL, ATOL = 1e-11, 1e-12


def t(a, grad=False):
    return torch.tensor(np.asarray(a, np.float64), dtype=torch.float64, requires_grad=grad)


def close(a, b, what):
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


def torch_bn(shape, momentum, epsilon, affine):
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}[len(shape)]
    return cls(shape[-1], eps=epsilon, momentum=1 - momentum, affine=affine, dtype=torch.float64)


def to_channels_first(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def from_channels_first(a):
    return np.moveaxis(a.detach().numpy(), 1, -1)


@pytest.mark.parametrize("shape", [(8, 3), (4, 5, 3), (3, 4, 5, 2)], ids=["rank2", "rank3", "rank4"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm_matches_torch(shape, training):
    rng = np.random.default_rng(0)
    c = shape[-1]
    layer = build64(layers.BatchNormalization(momentum=0.8, epsilon=1e-2), shape[1:])
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    layer.set_weights([gamma, beta, mean, var])
    x = rng.standard_normal(shape) * 2 + 0.5
    r = rng.standard_normal(shape)
    y = np.array(layer.forward(x.copy(), training=training))
    dx = np.array(layer.backward(r.copy()))

    bn = torch_bn(shape, 0.8, 1e-2, affine=True)
    with torch.no_grad():
        bn.weight.copy_(t(gamma))
        bn.bias.copy_(t(beta))
        bn.running_mean.copy_(t(mean))
        bn.running_var.copy_(t(var))
    bn.train(training)
    xt = t(to_channels_first(x), grad=True)
    yt = bn(xt)
    yt.backward(t(to_channels_first(r)))
    close(y, from_channels_first(yt), "y")
    close(dx, from_channels_first(xt.grad), "dx")
    close(layer.grads["gamma"], bn.weight.grad, "gamma grad")
    close(layer.grads["beta"], bn.bias.grad, "beta grad")
    close(layer.params["moving_mean"], bn.running_mean, "moving mean")
    m = x.size // c
    if training:  # torch: 0.8·var + 0.2·unbiased; Keras: 0.8·var + 0.2·biased
        unbiased_part = bn.running_var.numpy() - 0.8 * var
        close(layer.params["moving_variance"], 0.8 * var + unbiased_part * (m - 1) / m, "moving variance")
    else:
        close(layer.params["moving_variance"], bn.running_var, "moving variance")


def test_batchnorm_without_affine_matches_torch():
    rng = np.random.default_rng(1)
    layer = build64(layers.BatchNormalization(center=False, scale=False), (4,))
    x, r = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    y = np.array(layer.forward(x.copy(), training=True))
    dx = np.array(layer.backward(r.copy()))
    xt = t(x, grad=True)
    yt = F.batch_norm(xt, None, None, training=True, eps=1e-3)
    yt.backward(t(r))
    close(y, yt, "y")
    close(dx, xt.grad, "dx")


@pytest.mark.parametrize("shape, axis", [((5, 6), -1), ((2, 3, 4), -1), ((2, 3, 4, 2), [-3, -2, -1])])
def test_layernorm_matches_torch(shape, axis):
    rng = np.random.default_rng(2)
    layer = build64(layers.LayerNormalization(axis=axis, epsilon=1e-5), shape[1:])
    normalized = shape[-len(axis):] if isinstance(axis, list) else shape[-1:]
    gamma, beta = rng.standard_normal(normalized), rng.standard_normal(normalized)
    layer.set_weights([gamma, beta])
    x = rng.standard_normal(shape) * 3 - 1
    r = rng.standard_normal(shape)
    y = np.array(layer.forward(x.copy(), training=True))
    dx = np.array(layer.backward(r.copy()))
    xt, gt, bt = t(x, grad=True), t(gamma, grad=True), t(beta, grad=True)
    yt = F.layer_norm(xt, normalized, gt, bt, eps=1e-5)
    yt.backward(t(r))
    close(y, yt, "y")
    close(dx, xt.grad, "dx")
    close(layer.grads["gamma"], gt.grad, "gamma grad")
    close(layer.grads["beta"], bt.grad, "beta grad")
