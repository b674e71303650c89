"""Tensors and layouts for the PyTorch parity tests (NHWC here, NCHW in torch)."""
import numpy as np


def t(a, grad=False):
    import torch
    return torch.tensor(np.asarray(a, np.float64), dtype=torch.float64, requires_grad=grad)


def nchw(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def nhwc(a):
    return np.moveaxis(a.detach().numpy(), 1, -1)
