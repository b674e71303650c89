"""Models: Sequential and its training loops."""
from .sequential import Sequential

__all__ = ["Sequential"]
