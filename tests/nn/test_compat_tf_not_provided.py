"""Arguments polytape does not accept raise the same error as missing names (issue #16, item 7),
and layers other than Dense take weight regularizers too."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf


def test_unknown_layer_and_compile_arguments_say_polytape_does_not_provide_them():
    with pytest.raises(pt.NotProvidedError, match=r"polytape does not provide Dense\(foo=\.\.\.\)"):
        tf.keras.layers.Dense(2, foo=1)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    with pytest.raises(pt.NotProvidedError, match=r"polytape does not provide Model\.compile\("
                                                  r"loss_weights=\.\.\.\)"):
        model.compile(optimizer="sgd", loss="mse", loss_weights=[1.0])
    model.compile(optimizer="sgd", loss="mse", jit_compile=False)  # accepted, as before
    with pytest.raises(TypeError):
        tf.keras.layers.Conv2D(2, 3, groups=2)


def test_conv2d_takes_regularizers(backend):
    conv = tf.keras.layers.Conv2D(2, 2, kernel_initializer="ones", kernel_regularizer="l1")
    conv(np.zeros((1, 3, 3, 1), np.float32))
    # 0.01 * sum(|kernel|) over 2 * 2 * 1 * 2 ones
    np.testing.assert_allclose([float(t) for t in conv.losses], [0.08], rtol=1e-6)
