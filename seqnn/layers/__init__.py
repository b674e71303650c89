"""Layers. Every layer is registered by its class name (case-insensitive)."""
from .activation_layers import ELU, GELU, SELU, Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, get, register, registry, serialize
from .dense import Dense
from .dropout import Dropout
from .input_layer import Input, InputLayer
from .preprocessing import Rescaling
from .reshaping import Flatten, Reshape

__all__ = [
    "Activation", "Dense", "Dropout", "ELU", "Flatten", "GELU", "Input", "InputLayer", "Layer",
    "LeakyReLU", "ReLU", "Rescaling", "Reshape", "SELU", "Sigmoid", "Softmax", "Tanh",
    "get", "register", "registry", "serialize",
]
