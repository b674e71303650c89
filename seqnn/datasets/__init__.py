"""Datasets with Keras's ``load_data()`` shape: ((x_train, y_train), (x_test, y_test)).

``digits`` ships inside the package (8×8 images, loads offline); ``mnist`` is
read from files on disk.
"""
from . import digits, mnist

__all__ = ["digits", "mnist"]
