"""Keras 2's ``keras.utils.np_utils`` module path, kept for scripts written against it."""
from . import to_categorical

__all__ = ["to_categorical"]
