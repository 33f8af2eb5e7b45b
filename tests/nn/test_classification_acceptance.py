"""Acceptance: a two-layer network trained with Adam classifies a non-linear synthetic
set at >= 95% accuracy on held-out points, on every backend."""

from __future__ import annotations

import numpy as np

import polytape as pt
from polytape import nn


def _three_sectors(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in a ring, labelled by which third of the circle they lie in (the class
    boundaries are rays from the origin, so no linear model separates them), with a
    small gap around each boundary."""
    angle = rng.uniform(0, 2 * np.pi, n)
    labels = (angle // (2 * np.pi / 3)).astype(np.int64)
    keep = np.abs(((angle + np.pi / 3) % (2 * np.pi / 3)) - np.pi / 3) > 0.1
    radius = rng.uniform(0.5, 2.0, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x[keep].astype(np.float32), labels[keep]


def test_two_layer_network_with_adam_reaches_95_percent(backend):
    rng = np.random.default_rng(2024)
    x_train, y_train = _three_sectors(600, rng)
    x_test, y_test = _three_sectors(300, rng)
    pt.random.set_seed(0)
    model = nn.Sequential([nn.Dense(32, activation="relu"), nn.Dense(3)])
    model.compile(optimizer=pt.optimizers.Adam(learning_rate=0.01),
                  loss=nn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=25, batch_size=32, verbose=0)
    assert all(v.backend == backend for v in model.trainable_variables)
    assert history.history["loss"][-1] < 0.25 * history.history["loss"][0]
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    accuracy = (predicted == y_test).mean()
    assert accuracy >= 0.95, f"held-out accuracy {accuracy:.3f} on {backend}"
    # The metric fit reports is the same computation, on the training batches.
    assert history.history["accuracy"][-1] >= 0.95
