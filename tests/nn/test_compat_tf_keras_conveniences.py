"""Keras training conveniences and small TF APIs of issue #16 (callbacks, saving, class_weight,
steps_per_epoch, regularizers, clipping, devices, tf.Module, recompute_grad), with
TensorFlow 2.21 / Keras 3.15's values recorded from the same programs."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf

X = np.linspace(-1, 1, 32).reshape(-1, 1).astype(np.float32)
Y = 3 * X


def _dense(units=1, init="zeros", **kw):
    model = tf.keras.Sequential([tf.keras.Input((1,)),
                                 tf.keras.layers.Dense(units, kernel_initializer=init, **kw)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_learning_rate_scheduler_matches_keras(backend):
    model = _dense()
    sched = tf.keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    h = model.fit(X, Y, epochs=3, batch_size=32, verbose=0, callbacks=[sched])
    # Keras: learning_rate [0.05, 0.025, 0.0125]; loss [3.19354820, 2.97093058, 2.86644554]
    np.testing.assert_allclose(h.history["learning_rate"], [0.05, 0.025, 0.0125], rtol=1e-6)
    np.testing.assert_allclose(h.history["loss"], [3.1935482025146484, 2.970930576324463,
                                                   2.866445541381836], rtol=1e-6)


def test_class_weight_regularizers_and_steps_per_epoch_match_keras(backend):
    model = tf.keras.Sequential([tf.keras.Input((1,)),
                                 tf.keras.layers.Dense(2, kernel_initializer="ones")])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = (X[:, 0] > 0.3).astype(np.int32)
    h = model.fit(X, labels, epochs=2, batch_size=32, verbose=0, shuffle=False,
                  class_weight={0: 1.0, 1: 3.0})
    np.testing.assert_allclose(h.history["loss"], [1.1696858406066895, 1.1207351684570312],
                               rtol=1e-6)  # Keras
    model = _dense(init="ones", kernel_regularizer="l2")
    h = model.fit(X, Y, epochs=2, batch_size=32, verbose=0, shuffle=False)
    np.testing.assert_allclose(h.history["loss"], [1.4293547868728638, 1.2406797409057617],
                               rtol=1e-6)  # Keras (the l2 penalty included)
    np.testing.assert_allclose(float(model.losses[0]), 0.01612037, rtol=1e-6)  # Keras
    model = _dense()
    h = model.fit(X, Y, epochs=2, batch_size=8, steps_per_epoch=2, verbose=0, shuffle=False)
    # Keras 3 goes on with the next batches in the second epoch: [2.8937316, 3.3305807]
    np.testing.assert_allclose(h.history["loss"], [2.8937315940856934, 3.330580711364746],
                               rtol=1e-6)
    np.testing.assert_allclose(model.get_weights()[0], [[0.8241598010063171]], rtol=1e-6)
    with pytest.raises(ValueError, match="unknown regularizer"):
        tf.keras.layers.Dense(1, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(X, Y, steps_per_epoch=0, verbose=0)


def test_early_stopping_follows_keras_rule(backend):
    model = _dense()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.0), loss="mse")  # the loss never improves
    # (min_delta: rounding moves the unchanging loss by an ulp, which Keras counts as progress)
    stop = tf.keras.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=1e-3)
    h = model.fit(X, Y, epochs=10, batch_size=32, verbose=0, callbacks=[stop])
    # Keras' rule: epoch 0 is the best, epochs 1 and 2 wait, training stops after epoch 2
    assert len(h.history["loss"]) == 3 and stop.stopped_epoch == 2
    model = _dense()
    best = tf.keras.callbacks.EarlyStopping(monitor="loss", patience=1, mode="max",
                                            restore_best_weights=True)
    h = model.fit(X, Y, epochs=10, batch_size=32, verbose=0, callbacks=[best])
    assert len(h.history["loss"]) == 2  # the loss falls: "max" never improves after epoch 0
    one = _dense()
    one.fit(X, Y, epochs=1, batch_size=32, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], one.get_weights()[0], rtol=1e-6)  # epoch 0
    with pytest.raises(ValueError, match="mode"):
        tf.keras.callbacks.EarlyStopping(mode="best")


def test_saving_weights_and_models(backend, tmp_path):
    model = _dense(init="ones")
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    other = _dense()
    other(X[:1])
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))
    wrong = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(2)])
    wrong(X[:1])
    before = wrong.get_weights()
    with pytest.raises(ValueError, match="shape"):
        wrong.load_weights(path)
    for a, b in zip(before, wrong.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing changed
    model.save(tmp_path / "m.keras")
    again = tf.keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(X, verbose=0), model.predict(X, verbose=0))
    ckpt = tf.keras.callbacks.ModelCheckpoint(str(tmp_path / "w{epoch}.weights.h5"),
                                              monitor="loss", save_weights_only=True,
                                              save_best_only=True)
    model.fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[ckpt])
    assert sorted(p.name for p in tmp_path.glob("w*")) == ["w1.weights.h5", "w2.weights.h5"]


def test_clipping_matches_tf(backend):
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0]), None, tf.constant([[12.0]])],
                                           6.5)
    # TF: [[1.5, 2.0], None, [[6.0]]], 13.0
    assert clipped[0].numpy().tolist() == [1.5, 2.0] and clipped[1] is None
    assert clipped[2].numpy().tolist() == [[6.0]] and float(norm) == 13.0
    kept, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], 10.0)
    assert kept[0].numpy().tolist() == [3.0, 4.0] and float(norm) == 5.0  # TF
    assert tf.clip_by_norm(tf.constant([3.0, 4.0]), 2.5).numpy().tolist() == [1.5, 2.0]  # TF
    with pytest.raises(ValueError, match="sequence"):
        tf.clip_by_global_norm(tf.constant([1.0]), 1.0)


def test_module_tracks_like_tf():
    class Inner(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.w = tf.Variable(1.0, name="iw")
            self.frozen = tf.Variable(2.0, trainable=False, name="ifrozen")

    class Outer(tf.Module):
        def __init__(self):
            super().__init__()
            self.z = tf.Variable(3.0, name="oz")
            self.layers = [Inner(name="a"), Inner(name="b")]
            self.a = tf.Variable(4.0, name="oa")
            self.d = {"k": tf.Variable(5.0, name="od")}

    m = Outer()
    # TF: name 'outer'; variables oa, od, oz, ifrozen, iw, ifrozen, iw; trainable without
    # ifrozen; submodules ['a', 'b']
    assert m.name == "outer"
    assert [v.name for v in m.variables] == ["oa", "od", "oz", "ifrozen", "iw", "ifrozen", "iw"]
    assert [v.name for v in m.trainable_variables] == ["oa", "od", "oz", "iw", "iw"]
    assert [s.name for s in m.submodules] == ["a", "b"]
    # TF: ValueError "'bad name' is not a valid module name. Module names must be valid Python
    # identifiers (e.g. a valid class name)."
    with pytest.raises(ValueError, match="'bad name' is not a valid module name"):
        tf.Module(name="bad name")
    with m.name_scope:
        pass


def test_recompute_grad_recomputes_and_keeps_less(backend):
    w = tf.Variable([[0.5, -0.2], [0.1, 0.3]])

    def block(x):
        for _ in range(20):
            x = tf.tanh(tf.matmul(x, w))
        return x

    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as plain:
        y1 = tf.reduce_sum(block(x))
    n_plain = len(plain._records)
    with tf.GradientTape() as saving:
        y2 = tf.reduce_sum(tf.recompute_grad(block)(x))
    n_saving = len(saving._records)
    # The checkpointed block is one record instead of 40 (plus the sum): its intermediates
    # are not kept between the forward and the backward pass.
    assert n_plain == 41 and n_saving == 2
    np.testing.assert_allclose(float(y1), float(y2), rtol=1e-6)
    np.testing.assert_allclose(saving.gradient(y2, w).numpy(), plain.gradient(y1, w).numpy(),
                               rtol=1e-6)


def test_device_and_config_map_to_polytape_devices(backend):
    cpus = tf.config.list_physical_devices("CPU")
    assert [d.name for d in cpus] == ["/physical_device:CPU:0"]  # TF on a CPU machine
    with tf.device("/CPU:0"):
        assert tf.constant(1.0).device == "cpu"
    if not tf.config.list_physical_devices("GPU"):
        with tf.device("/GPU:0"):  # soft placement, as TF: runs on the CPU
            assert tf.constant(1.0).device == "cpu"
        tf.config.set_soft_device_placement(False)
        try:
            with pytest.raises(ValueError, match="soft device placement is off"):
                with tf.device("/GPU:0"):
                    pass
        finally:
            tf.config.set_soft_device_placement(True)
    with pytest.raises(ValueError, match="cannot parse device name"):
        with tf.device("/TPU:0"):
            pass


def test_missing_names_and_arguments_raise_one_error():
    for get in (lambda: tf.data, lambda: tf.keras.layers.LSTM, lambda: tf.nn.conv3d):
        with pytest.raises(pt.NotProvidedError, match="polytape does not provide tf."):
            get()
    model = _dense()
    with pytest.raises(pt.NotProvidedError, match=r"polytape does not provide Model.fit\("
                                                  r"use_multiprocessing=\.\.\.\)"):
        model.fit(X, Y, use_multiprocessing=True, verbose=0)
    with pytest.raises(TypeError):  # what Python raises for an unknown argument
        model.fit(X, Y, workers=2, verbose=0)
