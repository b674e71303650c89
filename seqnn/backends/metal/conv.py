"""Convolution on Metal (kernels/conv.metal): conv2d, its kernel and input gradients, pad2d and its adjoint."""
from __future__ import annotations


class ConvOps:
    pass
