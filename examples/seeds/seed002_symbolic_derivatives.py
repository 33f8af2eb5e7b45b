"""Seed 002 ("TensorFlow gradients: Computing Symbolic Derivatives"), in order.

Written as the seed shows it with one change, the import line
(``import tensorflow as tf`` -> ``import polytape.compat.tensorflow as tf``).
Choose the backend with the environment variable, e.g. ``POLYTAPE_BACKEND=torch``.

Documented deviation: the first example is TensorFlow 1 graph code
(``tf.gradients`` + ``tf.Session``). In TensorFlow 2's eager mode ``tf.gradients``
raises ``RuntimeError: tf.gradients is not supported when eager execution is
enabled. Use tf.GradientTape instead.``; polytape (eager only) raises the same.
That example is wrapped in a ``try``/``except`` that prints the error.
"""

# -- Using tf.gradients (TensorFlow 1 graph mode) ----------------------------------------------------
import polytape.compat.tensorflow as tf

a = tf.constant(3.0)
b = tf.constant(2.0)
c = tf.constant(1.0)

y = a * b + c

try:  # deviation: print TensorFlow 2's eager-mode error instead of failing
    gradients = tf.gradients(y, [a, b, c])

    with tf.Session() as sess:
        result = sess.run(gradients)
        print(result)  # Outputs: [2.0, 3.0, 1.0]
except RuntimeError as err:
    print(f"{type(err).__name__}: {err}")

# -- Using tf.GradientTape ------------------------------------------------------------------------
import polytape.compat.tensorflow as tf

a = tf.constant(3.0)
b = tf.constant(2.0)
c = tf.constant(1.0)

with tf.GradientTape() as tape:
    tape.watch([a, b, c])
    y = a * b + c

gradients = tape.gradient(y, [a, b, c])
print(gradients)  # Outputs: [2.0, 3.0, 1.0]
