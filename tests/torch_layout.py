"""Tensors and layouts for the PyTorch parity tests (NHWC here, NCHW in torch)."""
import numpy as np


def t(a, grad=False):
    import torch
    return torch.tensor(np.asarray(a, np.float64), dtype=torch.float64, requires_grad=grad)


def nchw(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def nhwc(a):
    return np.moveaxis(a.detach().numpy(), 1, -1)


def run_layer(layer, x, r, training=True):
    """(y, dx, grads) of one forward and one backward pass with dy = r, all copied to numpy."""
    y = np.array(layer.forward(x.copy(), training=training))
    dx = np.array(layer.backward(r.copy()))
    return y, dx, {k: np.array(g) for k, g in layer.grads.items()}


def close(a, b, what, rtol=1e-12, atol=1e-13):
    """Float64 agreement with torch: rounding-level differences only."""
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
