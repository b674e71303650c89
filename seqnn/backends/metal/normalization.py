"""Normalization on Metal (kernels/normalization.metal): batch and layer normalization."""
from __future__ import annotations


class NormalizationOps:
    pass
