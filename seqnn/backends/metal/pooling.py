"""Pooling and resampling on Metal (kernels/pooling.metal): max, average and global pooling, upsampling."""
from __future__ import annotations


class PoolingOps:
    pass
