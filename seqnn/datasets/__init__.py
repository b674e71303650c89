"""Datasets with Keras's ``load_data()`` shape: ((x_train, y_train), (x_test, y_test))."""
from . import mnist

__all__ = ["mnist"]
