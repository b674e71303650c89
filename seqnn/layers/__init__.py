"""Layers. Every layer is registered by its class name (case-insensitive)."""
from .activation_layers import ELU, GELU, SELU, Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, get, register, registry, serialize
from .conv import Conv1D, Conv2D
from .dense import Dense
from .dropout import Dropout
from .input_layer import Input, InputLayer
from .normalization import BatchNormalization, LayerNormalization
from .padding import ZeroPadding1D, ZeroPadding2D
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from .preprocessing import Rescaling
from .reshaping import Flatten, Reshape

# Keras's alternative spellings.
Convolution1D, Convolution2D = Conv1D, Conv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

__all__ = [
    "Activation", "AveragePooling1D", "AveragePooling2D", "BatchNormalization", "Conv1D", "Conv2D", "Dense",
    "Dropout", "ELU", "Flatten", "GELU", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "Input", "InputLayer", "Layer", "LayerNormalization", "LeakyReLU", "MaxPooling1D",
    "MaxPooling2D", "ReLU", "Rescaling", "Reshape", "SELU", "Sigmoid", "Softmax", "Tanh", "ZeroPadding1D",
    "ZeroPadding2D", "get", "register", "registry", "serialize",
    "AvgPool1D", "AvgPool2D", "Convolution1D", "Convolution2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
]
