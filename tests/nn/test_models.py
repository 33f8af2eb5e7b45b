"""Sequential and Model: compile, fit, evaluate, predict, weights and summary, checked
against the same computation written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
from polytape import nn


def _linear_data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def _mse_and_grads(x, y, w, b):
    """MSE of x @ w + b and its gradient, in float64."""
    x, y, w, b = (np.asarray(a, np.float64) for a in (x, y, w, b))
    r = x @ w + b - y
    n = r.size
    return (r ** 2).mean(), 2 * x.T @ r / n, 2 * r.sum(0) / n


def test_one_full_batch_epoch_is_one_sgd_step(backend):
    x, y = _linear_data()
    model = nn.Sequential([nn.Dense(1)])
    model.compile(optimizer=pt.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.build((None, 3))
    w0, b0 = model.get_weights()
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    loss0, gw, gb = _mse_and_grads(x, y, w0, b0)
    # The epoch's loss is the loss of the one batch, at the starting weights.
    assert history.history["loss"][0] == pytest.approx(loss0, rel=1e-5)
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.1 * gw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1, b0 - 0.1 * gb, rtol=1e-5, atol=1e-6)
    assert model.history is history and history.epoch == [0]


def test_epoch_loss_is_the_batch_size_weighted_mean(backend):
    # batches of 16, 16 and 8 samples; SGD with lr 0 keeps the weights fixed.
    x, y = _linear_data()
    model = nn.Sequential([nn.Dense(1)])
    model.compile(optimizer=pt.optimizers.SGD(learning_rate=0.0), loss="mae")
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    w, b = model.get_weights()
    full = np.abs(x.astype(np.float64) @ w + b - y).mean()
    assert history.history["loss"] == pytest.approx([full, full], rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(full, rel=1e-5)


def test_validation_split_holds_out_the_last_samples(backend):
    x, y = _linear_data(50)
    model = nn.Sequential([nn.Dense(1)])
    model.compile(optimizer=pt.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.build((None, 3))
    w0, b0 = model.get_weights()
    history = model.fit(x, y, batch_size=100, epochs=1, validation_split=0.2, shuffle=False, verbose=0)
    _, gw, gb = _mse_and_grads(x[:40], y[:40], w0, b0)    # trained on the first 40 only
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.1 * gw, rtol=1e-5, atol=1e-6)
    val_loss, _, _ = _mse_and_grads(x[40:], y[40:], w1, b1)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-5)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)


def test_predict_and_evaluate_with_metrics(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((70, 2)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential([nn.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    probs = model.predict(x, batch_size=32, verbose=0)        # 3 batches: 32, 32, 6
    w, b = model.get_weights()
    z = x.astype(np.float64) @ w + b
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, ref, rtol=1e-5, atol=1e-6)
    loss, acc = model.evaluate(x, labels, batch_size=32, verbose=0)
    assert loss == pytest.approx(-np.log(ref[np.arange(70), labels]).mean(), rel=1e-5)
    assert acc == pytest.approx((ref.argmax(1) == labels).mean(), abs=1e-6)
    assert model.metrics_names == ["loss", "accuracy"]
    assert model.evaluate(x, labels, verbose=0, return_dict=True)["accuracy"] == pytest.approx(acc)


def test_accuracy_follows_the_loss_shapes(backend):
    model = nn.Sequential([nn.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["acc"])
    x = np.array([[1.0], [-1.0], [2.0], [-2.0]], np.float32)
    model.build((None, 1))
    model.set_weights([np.array([[5.0]]), np.array([0.0])])
    y = np.array([[1.0], [0.0], [0.0], [0.0]], np.float32)     # 3 of 4 right
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc == pytest.approx(0.75)


def test_verbose_controls_the_progress_bar(backend, capsys):
    x, y = _linear_data(20)
    model = nn.Sequential([nn.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("3/3 ") and "/step - loss: " in out[1]
    model.fit(x, y, epochs=1, batch_size=8, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/1" and out[1].startswith("3/3 - ") and "loss: " in out[1]


def test_get_set_weights_and_trainable_variables(backend):
    model = nn.Sequential([nn.Input((4,)), nn.Dense(3, activation="relu"), nn.Dense(2)])
    assert model.built                                       # known input shape: built at once
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(4, 3), (3,), (3, 2), (2,)]
    assert [v.shape for v in model.trainable_variables] == shapes
    assert all(v.backend == backend for v in model.trainable_variables)
    new = [np.full(s, i + 1.0) for i, s in enumerate(shapes)]
    model.set_weights(new)
    out = model(np.ones((1, 4), np.float32)).numpy()
    hidden = np.maximum(np.ones((1, 4)) @ new[0] + new[1], 0)
    np.testing.assert_allclose(out, hidden @ new[2] + new[3])
    with pytest.raises(pt.ShapeError):
        model.set_weights([np.ones((4, 4))] + new[1:])
    np.testing.assert_allclose(model.get_weights()[0], new[0])
    assert model.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_summary_lists_layers_and_parameter_counts(backend):
    model = nn.Sequential([nn.Dense(8, input_shape=(5,), name="hidden"), nn.Dense(1, name="out")],
                          name="tiny")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "tiny"' in text
    hidden_row = next(line for line in lines if line.startswith("hidden (Dense)"))
    assert "(None, 8)" in hidden_row and hidden_row.split()[-1] == str(5 * 8 + 8)
    out_row = next(line for line in lines if line.startswith("out (Dense)"))
    assert out_row.split()[-1] == str(8 + 1)
    total = 5 * 8 + 8 + 8 + 1
    assert f"Total params: {total} ({total * 4:.2f} B)" in text
    assert "Non-trainable params: 0" in text


def test_subclassed_model_tracks_its_layers(backend):
    class TwoLayers(nn.Model):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Dense(4, activation="tanh")
            self.out = nn.Dense(1)
            self.scale = pt.Variable(1.0, name="scale")

        def call(self, x, training=False):
            return self.out(self.hidden(x)) * self.scale

    model = TwoLayers()
    x, y = _linear_data(32)
    model.compile(optimizer=pt.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    assert len(model.trainable_variables) == 5
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_training_errors(backend):
    x, y = _linear_data(8)
    model = nn.Sequential([nn.Dense(1)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(pt.ShapeError, match="samples"):
        model.fit(x, y[:5], verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        model.compile(optimizer="sgdd", loss="mse")
    with pytest.raises(ValueError, match="functional API"):
        nn.Model(inputs=None, outputs=None)
    with pytest.raises(ValueError, match="no layers"):
        nn.Sequential()(x)


def test_fit_is_repeatable_with_a_seed(backend):
    x, y = _linear_data(30)

    def run():
        pt.random.set_seed(7)
        model = nn.Sequential([nn.Dense(2, activation="relu"), nn.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model.fit(x, y, epochs=2, batch_size=7, verbose=0).history["loss"], model.get_weights()

    (loss_a, w_a), (loss_b, w_b) = run(), run()
    assert loss_a == loss_b
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a, b)
