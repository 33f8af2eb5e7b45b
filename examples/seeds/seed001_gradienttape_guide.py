"""Seed 001 ("TensorFlow GradientTape: A Guide to Automatic Differentiation"), in order.

Written as the seed shows it with one change, the import line
(``import tensorflow as tf`` -> ``import polytape.compat.tensorflow as tf``).
Choose the backend with the environment variable, e.g. ``POLYTAPE_BACKEND=torch``.

Documented deviations:

* The seed's first two examples create ``tf.GradientTape()`` *without* ``with``
  and call ``tape.watch``. That cannot work: a tape records only inside its
  ``with`` block. TensorFlow fails with ``AttributeError: 'NoneType' object has no
  attribute '_tape'`` (the seed's claimed outputs 2.0 and 10.0 are wrong);
  polytape raises a ``TapeError`` (a ``RuntimeError``) telling the user to use
  ``with``. Each of those examples is wrapped in a ``try``/``except`` that prints
  that error, and is followed by the same code inside ``with tf.GradientTape() as
  tape:`` -- the form the seed means -- which prints 2.0 and 10.0.
"""

# -- Basic structure of GradientTape (as the seed writes it: no `with`) -------------------------
import polytape.compat.tensorflow as tf

# Define some inputs x and a simple operation on x
x = tf.constant(3.0)

y = tf.constant(2.0)

try:  # deviation: print polytape's error instead of failing
    # Create a GradientTape object
    tape = tf.GradientTape()

    # Start recording the history of operations applied to x
    tape.watch(x)

    # Perform a simple operation
    z = x * y

    # Use the tape to get the gradient of z with respect to x
    gradient = tape.gradient(z, x)
    print(gradient.numpy())  # Output should be 2.0
except RuntimeError as err:
    print(f"{type(err).__name__}: {err}")

# -- The same example inside `with` (what the seed means) -----------------------------------------
with tf.GradientTape() as tape:
    tape.watch(x)
    z = x * y
gradient = tape.gradient(z, x)
print(gradient.numpy())  # Output should be 2.0

# -- Working with variables (as the seed writes it: no `with`) -----------------------------------
import polytape.compat.tensorflow as tf

# Define a variable
w = tf.Variable(5.0)

try:  # deviation: print polytape's error instead of failing
    tape = tf.GradientTape()

    # Execute operations within the GradientTape scope
    tape.watch(w)

    # A simple operation
    y = w * w

    # Compute the gradient of y with respect to w
    grad = tape.gradient(y, w)
    print(grad.numpy())  # Output should be 10.0
except RuntimeError as err:
    print(f"{type(err).__name__}: {err}")

# -- The same example inside `with` (what the seed means) -----------------------------------------
with tf.GradientTape() as tape:
    tape.watch(w)
    y = w * w
grad = tape.gradient(y, w)
print(grad.numpy())  # Output should be 10.0

# -- Nested GradientTape contexts ---------------------------------------------------------------
import polytape.compat.tensorflow as tf

x = tf.Variable(3.0)

with tf.GradientTape() as t1:
    with tf.GradientTape() as t2:
        y = x * x * x
    dy_dx = t2.gradient(y, x)
    d2y_dx2 = t1.gradient(dy_dx, x)

print(dy_dx.numpy())   # Output should be 27.0
print(d2y_dx2.numpy()) # Output should be 18.0
