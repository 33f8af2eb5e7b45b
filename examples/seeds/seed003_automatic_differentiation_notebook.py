# -*- coding: utf-8 -*-
"""Seed 003 (the ``automatic_differentiation.py`` notebook export), in order.

Written as the seed shows it with one change, the import line
(``import tensorflow as tf`` -> ``import polytape.compat.tensorflow as tf``); the
seed's page lost the indentation of the ``with`` blocks, restored here.
Choose the backend with the environment variable, e.g. ``POLYTAPE_BACKEND=torch``.

The seed ends with an exercise ("turn persistent to False to see what
happens"); it is run at the end, in a ``try``/``except`` that prints the error a
second ``gradient`` call on a non-persistent tape raises.
"""

# Loading necessary libraries
import polytape.compat.tensorflow as tf
import numpy as np

x = tf.constant([2.0])
with tf.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
    f = x ** 2

# Print gradient output
print('The gradient df/dx where f=(x^2):\n', grad.gradient(f, x))

x = tf.constant([2.0])
x = tf.Variable(x)
with tf.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
    f = x ** 2

# Print gradient output
print('The gradient df/dx where f=(x^2):\n', grad.gradient(f, x))

x = tf.constant([2.0])
with tf.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
    grad.watch(x)
    f = x ** 2

# Print gradient output
print('The gradient df/dx where f=(x^2):\n', grad.gradient(f, x))

x = tf.constant([2.0])
x = tf.Variable(x)

# For practice, turn persistent to False to see what happens.
with tf.GradientTape(persistent=True, watch_accessed_variables=True) as grad:
    f = x ** 2
    h = x ** 3

# Print gradient output
print('The gradient df/dx where f=(x^2):\n', grad.gradient(f, x))
print('The gradient dh/dx where h=(x^3):\n', grad.gradient(h, x))

# -- The seed's exercise: the same with persistent=False ----------------------------------------
with tf.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
    f = x ** 2
    h = x ** 3

print('The gradient df/dx where f=(x^2):\n', grad.gradient(f, x))
try:
    print('The gradient dh/dx where h=(x^3):\n', grad.gradient(h, x))
except RuntimeError as err:
    print(f"{type(err).__name__}: {err}")
