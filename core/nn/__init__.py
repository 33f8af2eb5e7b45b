"""Keras-style layers, models, losses, metrics and initializers on polytape tensors.

>>> import numpy as np
>>> import polytape as pt
>>> model = pt.nn.Sequential([pt.nn.Dense(8, activation="relu"), pt.nn.Dense(1)])
>>> model.compile(optimizer="adam", loss="mse")
>>> _ = model.fit(np.zeros((4, 3)), np.zeros((4, 1)), epochs=1, verbose=0)
>>> model.predict(np.zeros((2, 3)), verbose=0).shape
(2, 1)

Modules: :mod:`~polytape.nn.layers`, :mod:`~polytape.nn.models`,
:mod:`~polytape.nn.losses`, :mod:`~polytape.nn.metrics`,
:mod:`~polytape.nn.initializers`, :mod:`~polytape.nn.activations`,
:mod:`~polytape.nn.callbacks`, :mod:`~polytape.nn.convolution` (convolution and pooling
functions) with their layers in :mod:`~polytape.nn.convolution_layers`,
:mod:`~polytape.nn.normalization` and :mod:`~polytape.nn.embedding`; optimizers are
:mod:`polytape.optimizers`.
"""

from . import (
    activations,
    callbacks,
    convolution,
    initializers,
    layers,
    losses,
    metrics,
    models,
    regularizers,
    training_callbacks,
)
from .callbacks import Callback, History
from .convolution_layers import AveragePooling2D, Conv2D, MaxPooling2D
from .embedding import Embedding
from .layers import Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer
from .models import Model, Sequential
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["activations", "callbacks", "convolution", "initializers", "layers", "losses",
           "metrics", "models", "regularizers", "training_callbacks", "Layer", "Dense",
           "Activation", "Flatten", "Dropout",
           "InputLayer", "Input", "Conv2D", "MaxPooling2D", "AveragePooling2D",
           "BatchNormalization", "LayerNormalization", "Embedding", "Model", "Sequential",
           "Callback", "History"]
