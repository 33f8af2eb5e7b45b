"""The TensorFlow names people use, and what ``polytape.compat.tensorflow`` does with each.

``NAMES`` is the list; ``docs/tensorflow-compat.md`` is generated from it
(``python -m polytape.compat.coverage > docs/tensorflow-compat.md``) and a test checks
that the file is current and that every entry tells the truth: an *implemented* or
*partial* name resolves, a *missing* one raises :class:`~polytape.errors.NotProvidedError`.
"""

from __future__ import annotations

import sys
from typing import Any

import polytape.compat.tensorflow as tf
from polytape.errors import NotProvidedError

__all__ = ["NAMES", "PARTIAL", "status", "render"]

# Dotted names below ``tf.`` (the commonly used surface of TensorFlow 2 eager code).
NAMES = """
Variable constant convert_to_tensor Tensor TensorShape GradientTape custom_gradient
stop_gradient identity cast is_tensor function executing_eagerly print gradients
UnconnectedGradients recompute_grad Module device
add subtract multiply divide truediv floordiv pow maximum minimum negative abs sign exp log
sqrt square sin cos tanh sigmoid floor ceil round equal not_equal less less_equal greater
greater_equal logical_and logical_or logical_not where add_n clip_by_value clip_by_norm
clip_by_global_norm reduce_sum reduce_mean reduce_max reduce_min reduce_prod reduce_any
reduce_all reduce_logsumexp argmax argmin cumsum matmul tensordot einsum norm transpose
reshape expand_dims squeeze concat stack unstack split tile pad gather gather_nd
scatter_nd tensor_scatter_nd_update boolean_mask one_hot shape size rank broadcast_to
zeros ones zeros_like ones_like fill eye range linspace repeat sort argsort unique
cond while_loop map_fn foldl foldr scan vectorized_map case switch_case
math.reduce_variance math.reduce_std math.log1p math.erf math.top_k math.segment_sum
math.unsorted_segment_sum math.is_nan math.is_finite math.softplus math.l2_normalize
linalg.matmul linalg.inv linalg.det linalg.solve linalg.cholesky linalg.svd linalg.norm
linalg.matvec linalg.global_norm linalg.eigh linalg.eigvalsh linalg.qr linalg.pinv linalg.slogdet
linalg.trace linalg.diag linalg.diag_part linalg.adjoint errors.InvalidArgumentError
nn.relu nn.softmax nn.log_softmax nn.sigmoid_cross_entropy_with_logits
nn.softmax_cross_entropy_with_logits nn.sparse_softmax_cross_entropy_with_logits
nn.conv1d nn.conv2d nn.conv2d_transpose nn.conv3d nn.max_pool2d nn.avg_pool2d
nn.batch_normalization nn.moments nn.dropout nn.embedding_lookup nn.l2_loss nn.bias_add
nn.gelu nn.leaky_relu compat.v1.nn.fused_batch_norm
random.normal random.uniform random.truncated_normal random.shuffle random.set_seed
random.categorical random.Generator
autodiff.ForwardAccumulator
config.list_physical_devices config.experimental.set_memory_growth
data.Dataset io.read_file image.resize saved_model.save train.Checkpoint summary.scalar
distribute.MirroredStrategy TensorArray SparseTensor RaggedTensor strings.split
keras.Sequential keras.Model keras.Input keras.layers.Dense keras.layers.Conv2D
keras.layers.MaxPooling2D keras.layers.AveragePooling2D keras.layers.BatchNormalization
keras.layers.LayerNormalization keras.layers.Dropout keras.layers.Embedding
keras.layers.Flatten keras.layers.Activation keras.layers.LSTM keras.layers.GRU
keras.layers.Concatenate keras.layers.Reshape keras.layers.GlobalAveragePooling2D
keras.optimizers.SGD keras.optimizers.Adam keras.optimizers.AdamW keras.optimizers.RMSprop
keras.losses.MeanSquaredError keras.losses.BinaryCrossentropy
keras.losses.SparseCategoricalCrossentropy keras.losses.CategoricalCrossentropy
keras.metrics.Mean keras.metrics.SparseCategoricalAccuracy keras.metrics.AUC
keras.callbacks.EarlyStopping keras.callbacks.ModelCheckpoint
keras.callbacks.LearningRateScheduler keras.callbacks.TensorBoard
keras.regularizers.L2 keras.initializers.GlorotUniform keras.models.load_model
keras.utils.to_categorical keras.preprocessing keras.applications
""".split()

# What differs for names that exist (everything else implemented behaves as TensorFlow's).
PARTIAL = {
    "function": "runs the function eagerly (no graph, no tracing)",
    "gradients": "raises TensorFlow 2's eager error, as TensorFlow does",
    "device": "maps to the current backend's devices; soft placement as TensorFlow",
    "print": "prints to stdout by value; no summarize",
    "pad": "mode='CONSTANT' only",
    "one_hot": "last axis only",
    "cumsum": "exclusive=True not provided",
    "cond": "eager Python branch",
    "while_loop": "eager Python loop; shape_invariants/parallel_iterations ignored",
    "map_fn": "eager loop; output structure read from fn's result",
    "vectorized_map": "runs map_fn (no vectorizing compiler)",
    "nn.conv1d": "NWC only", "nn.conv2d": "NHWC only",
    "nn.conv2d_transpose": "NHWC only", "nn.max_pool2d": "NHWC only",
    "nn.avg_pool2d": "NHWC only",
    "nn.embedding_lookup": "max_norm not provided",
    "compat.v1.nn.fused_batch_norm": "NHWC only; exponential_avg_factor=1 only",
    "config.list_physical_devices": "the current backend's devices",
    "config.experimental.set_memory_growth": "accepted and ignored",
    "keras.Model": "subclassing and Sequential; no functional Model(inputs, outputs)",
    "keras.Input": "declares a Sequential's input shape only",
    "keras.layers.Conv2D": "channels_last only",
    "keras.layers.Embedding": "mask_zero not provided",
    "keras.callbacks.ModelCheckpoint": "save_freq='epoch' only; polytape's file formats",
    "keras.models.load_model": "reads Model.save's pickle, not Keras' .keras zip",
    "Module": "name scopes are accepted but name nothing (eager tensors have no names)",
    "TensorShape": "fully known shapes only; repr is a tuple's",
}


def _resolve(path: str) -> Any:
    obj: Any = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def status(path: str) -> str:
    """``"implemented"``, ``"partial"`` or ``"missing"`` for ``tf.<path>``, found by looking
    the name up (a missing name raises :class:`~polytape.errors.NotProvidedError`)."""
    try:
        _resolve(path)
    except NotProvidedError:
        return "missing"
    return "partial" if path in PARTIAL else "implemented"


def render() -> str:
    """``docs/tensorflow-compat.md``'s text."""
    rows = [(p, status(p)) for p in NAMES]
    counts = {s: sum(1 for _, x in rows if x == s) for s in ("implemented", "partial", "missing")}
    lines = [
        "# TensorFlow compatibility (`polytape.compat.tensorflow`)",
        "",
        "<!-- generated by `python -m polytape.compat.coverage`; "
        "tests/nn/test_compat_tf_coverage.py checks it -->",
        "",
        "`import polytape.compat.tensorflow as tf` covers TensorFlow 2's eager API as listed "
        "here. Every *missing* name raises `polytape.NotProvidedError` (an `AttributeError` "
        "and a `TypeError`) whose message starts \"polytape does not provide\"; so do "
        "arguments polytape does not accept where it checks them (e.g. `Model.fit`).",
        "",
        "File formats: `Model.save_weights` writes a NumPy `.npz` archive (arrays `weight_0`, "
        "`weight_1`, ... in `model.weights` order, names in `names`) whatever the extension; "
        "`Model.save` pickles the model (read it with `tf.keras.models.load_model`).",
        "",
        "Dtypes: this namespace's functions refuse to mix tensor dtypes as TensorFlow does "
        "(`InvalidArgumentError`); Python numbers stay weak. Python operators on tensors keep "
        "polytape's promotion (see the module docstring).",
        "",
        f"{len(rows)} names: {counts['implemented']} implemented, {counts['partial']} partial, "
        f"{counts['missing']} missing.",
        "",
        "| name | status | what differs |",
        "|------|--------|--------------|",
    ]
    for path, st in rows:
        lines.append(f"| `tf.{path}` | {st} | {PARTIAL.get(path, '') if st == 'partial' else ''} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
