"""Issue #16 acceptance: a small CNN (Conv2D -> BatchNormalization -> MaxPooling2D -> Flatten ->
Dropout -> Dense) written in TensorFlow style trains with compile/fit on every backend, and
with the same initial weights and batches its losses match real TensorFlow 2.21's (recorded).

TensorFlow's side of the comparison was run with tensorflow-cpu 2.21 / Keras 3 on this very
program (``build`` with ``import tensorflow as tf``). Dropout is stochastic, and the two
libraries draw different masks, so the matched run uses ``Dropout(0.0)``; a separate test
trains with ``Dropout(0.5)``.
"""

from __future__ import annotations

import numpy as np

import polytape.compat.tensorflow as tf


def _data():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((48, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int32)
    x[y == 1, :4] += 0.5
    return x, y


def _weights():
    rng = np.random.default_rng(7)
    return [
        [rng.uniform(-0.4, 0.4, (3, 3, 1, 4)).astype(np.float32),
         rng.uniform(-0.1, 0.1, (4,)).astype(np.float32)],
        [rng.uniform(0.8, 1.2, (4,)).astype(np.float32),
         rng.uniform(-0.1, 0.1, (4,)).astype(np.float32),
         np.zeros(4, np.float32), np.ones(4, np.float32)],
        [rng.uniform(-0.3, 0.3, (64, 2)).astype(np.float32), np.zeros(2, np.float32)],
    ]


def build(rate=0.0):
    L = tf.keras.layers
    conv = L.Conv2D(4, 3, padding="same", activation="relu")
    bn, dense = L.BatchNormalization(), L.Dense(2)
    model = tf.keras.Sequential([tf.keras.Input(shape=(8, 8, 1)), conv, bn, L.MaxPooling2D(2),
                                 L.Flatten(), L.Dropout(rate), dense])
    for layer, w in zip((conv, bn, dense), _weights()):
        layer.set_weights(w)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, bn


# TensorFlow 2.21 (Keras 3.15) on the same program:
TF_STEP_LOSSES = [0.3802598714828491, 0.8114162683486938, 1.1116020679473877]
TF_MOVING_MEAN = [0.00815602671355009, 0.006294996477663517, 0.006626347079873085,
                  0.007667163386940956]
TF_EVALUATE = 0.7001884579658508
TF_FIT_EPOCH_LOSSES = [0.767759382724762, 0.2927524745464325]
FLOAT32 = dict(rtol=2e-5, atol=1e-6)


def test_small_cnn_losses_match_tensorflow(backend):
    x, y = _data()
    model, bn = build()
    losses = [float(model.train_on_batch(x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]))
              for i in range(3)]
    np.testing.assert_allclose(losses, TF_STEP_LOSSES, **FLOAT32)
    np.testing.assert_allclose(bn.moving_mean.numpy(), TF_MOVING_MEAN, **FLOAT32)
    # inference mode: the moving statistics, not the batch's
    np.testing.assert_allclose(float(model.evaluate(x, y, batch_size=48, verbose=0)),
                               TF_EVALUATE, **FLOAT32)


def test_small_cnn_fit_matches_tensorflow(backend):
    x, y = _data()
    model, _ = build()
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], TF_FIT_EPOCH_LOSSES, **FLOAT32)


def test_small_cnn_with_dropout_trains(backend):
    tf.random.set_seed(0)
    x, y = _data()
    model, _ = build(rate=0.5)
    history = model.fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # Dropout is the identity at inference: predict twice, same numbers
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
