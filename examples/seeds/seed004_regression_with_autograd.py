"""Seed 004 ("Using autograd in TensorFlow to solve a regression problem"), in order.

The seed's page lost its code blocks; its prose describes each program; the two
optimisation programs are written out here from that prose, the way TensorFlow code
would read. They are reproduced here with one change, the import line
(``import tensorflow as tf`` -> ``import polytape.compat.tensorflow as tf``);
``import numpy as np`` and ``import random`` stay. Choose the backend with the
environment variable, e.g. ``POLYTAPE_BACKEND=torch``.

The prints are the ones the prose describes (the tensors, the gradient 7.2,
the polynomial and its value 8.25, ``w`` before and after the fit, the puzzle's
solution); one line is added, marked below, that prints the puzzle's final
squared error so that convergence can be checked.
"""

# -- Autograd in TensorFlow: constants, variables, a gradient ------------------------------------
import polytape.compat.tensorflow as tf

x = tf.constant([1, 2, 3])
print(x)

x = tf.Variable([1, 2, 3])
print(x)

x = tf.Variable(3.6)

with tf.GradientTape() as tape:
    y = x*x

dy = tape.gradient(y, x)
print(dy)

# -- Using autograd for polynomial regression ----------------------------------------------------
import numpy as np

polyfunc = np.poly1d([1, 2, 3])
print(polyfunc)
print(polyfunc(1.5))

import numpy as np
import polytape.compat.tensorflow as tf

# polynomial regression: recover f(x) = x^2 + 2x + 3 from 20 noisy samples
polyfunc = np.poly1d([1, 2, 3])
X = np.random.randn(20, 1)
Y = polyfunc(X) + 0.2 * np.random.randn(20, 1)
w = tf.Variable(tf.random.normal((3, 1)))
x = tf.constant(np.hstack([X**2, X, np.ones_like(X)]), dtype=tf.float32)
y = tf.constant(Y, dtype=tf.float32)
optimizer = tf.keras.optimizers.Nadam(learning_rate=0.01)
print(w)
for _ in range(1000):
    with tf.GradientTape() as tape:
        y_pred = x @ w
        mse = tf.reduce_sum(tf.square(y - y_pred))
    grad = tape.gradient(mse, w)
    optimizer.apply_gradients([(grad, w)])
print(w)

# -- Using autograd to solve a math puzzle --------------------------------------------------------
import random
import polytape.compat.tensorflow as tf

# puzzle: A + B = 9, C - D = 1, A + C = 8, B - D = 2
A, B, C, D = (tf.Variable(random.random()) for _ in range(4))
optimizer = tf.keras.optimizers.Nadam(learning_rate=0.1)
for _ in range(1000):
    with tf.GradientTape() as tape:
        y1 = A + B - 9; y2 = C - D - 1; y3 = A + C - 8; y4 = B - D - 2
        sqerr = y1*y1 + y2*y2 + y3*y3 + y4*y4
    gradA, gradB, gradC, gradD = tape.gradient(sqerr, [A, B, C, D])
    optimizer.apply_gradients([(gradA, A), (gradB, B), (gradC, C), (gradD, D)])
print(A)
print(B)
print(C)
print(D)
print("Squared error:", sqerr.numpy())  # added for polytape's tests
