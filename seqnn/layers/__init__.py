"""Layers. Every layer is registered by its class name (case-insensitive)."""
from .activation_layers import ELU, GELU, SELU, Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer, get, register, registry, serialize
from .conv import Conv1D, Conv2D
from .conv_transpose import Conv1DTranspose, Conv2DTranspose
from .cropping import Cropping1D, Cropping2D
from .dense import Dense
from .dropout import Dropout
from .input_layer import Input, InputLayer
from .noise import GaussianNoise, SpatialDropout1D, SpatialDropout2D
from .normalization import BatchNormalization, LayerNormalization
from .padding import ZeroPadding1D, ZeroPadding2D
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from .preprocessing import Normalization, Rescaling
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .upsampling import UpSampling1D, UpSampling2D

# Keras's alternative spellings.
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D

__all__ = [
    "Activation", "AveragePooling1D", "AveragePooling2D", "BatchNormalization", "Conv1D", "Conv1DTranspose",
    "Conv2D", "Conv2DTranspose", "Cropping1D", "Cropping2D", "Dense", "Dropout", "ELU", "Flatten", "GELU",
    "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "Input", "InputLayer", "Layer", "LayerNormalization", "LeakyReLU", "MaxPooling1D", "MaxPooling2D",
    "Normalization", "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape", "SELU", "Sigmoid", "Softmax",
    "SpatialDropout1D", "SpatialDropout2D", "Tanh", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D",
    "get", "register", "registry", "serialize",
    "AvgPool1D", "AvgPool2D", "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
]
