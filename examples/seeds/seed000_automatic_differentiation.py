"""Seed 000 ("Automatic differentiation in TensorFlow"): its five examples, in order.

Each example is written as the seed shows it; the only change is the import line
(``import tensorflow as tf`` -> ``import polytape.compat.tensorflow as tf``).
Choose the backend with the environment variable, e.g. ``POLYTAPE_BACKEND=torch``.

Documented deviations (both clearly marked below):

* the seed's text says the first function value is 15.0; the true value (and
  TensorFlow's) is 17.0 = 2**2 + 5*2 + 3. Nothing is changed for that;
* the Dense-model example gets two added lines so its training can be checked:
  one prints the kernel before ``fit`` (``model.build`` creates it, as Keras would
  on the first batch) and one prints the loss of every epoch afterwards.
"""

# -- Simple mathematical functions with automatic differentiation ---------------------------
import polytape.compat.tensorflow as tf

# Define a simple mathematical function
def func(x):
    return x**2 + 5*x + 3

# Define the input variable
x = tf.Variable(2.0)

# Use GradientTape to compute the gradient
with tf.GradientTape() as tape:
    y = func(x)

# Get the gradient of y with respect to x
grad = tape.gradient(y, x)

print("Function value:", y.numpy())
print("Gradient:", grad.numpy())

# -- Training a neural network using TensorFlow's AD capabilities -------------------------------
import polytape.compat.tensorflow as tf
# Generate some random data
X = tf.random.normal((100, 1))
y = 3*X + tf.random.normal((100, 1))

# Define a simple neural network
model = tf.keras.Sequential([
    tf.keras.layers.Dense(1)
])

# Compile the model
model.compile(optimizer='sgd', loss='mse')

model.build((None, 1)); print("Initial weights:", model.layers[0].get_weights()[0])  # added for polytape's tests

# Train the model using AD for gradient computation
model.fit(X, y, epochs=10, verbose=0)

# Print the trained weights
print("Trained weights:", model.layers[0].get_weights()[0])
print("Loss per epoch:", model.history.history["loss"])  # added for polytape's tests

# -- Comparison of manual gradient computation vs TensorFlow AD ---------------------------------
import polytape.compat.tensorflow as tf

# Define a simple mathematical function
def func(x):
    return x**2 + 5*x + 3

# Define the input variable
x = tf.Variable(2.0)

# Manual gradient computation
with tf.GradientTape() as tape:
    y = func(x)

manual_grad = 2*x + 5

# Automatic differentiation
with tf.GradientTape() as tape:
    y = func(x)

auto_grad = tape.gradient(y, x)

print("Manual Gradient:", manual_grad.numpy())
print("Automatic Gradient:", auto_grad.numpy())

# -- Basic usage of tf.GradientTape -------------------------------------------------------------
import polytape.compat.tensorflow as tf

# Define a simple function
def simple_function(x):
    return x ** 2

# Define the input variable
x = tf.constant(3.0)

# Use tf.GradientTape to compute the gradient
with tf.GradientTape() as tape:
    # Monitor the input variable
    tape.watch(x)
    # Compute the function value
    y = simple_function(x)

# Compute the gradient
dy_dx = tape.gradient(y, x)

print("Function value:", y.numpy())
print("Gradient:", dy_dx.numpy())

# -- Advanced automatic differentiation using custom gradients ----------------------------------
import polytape.compat.tensorflow as tf

# Define a function for which you want to compute gradients
def custom_function(x):
    return tf.square(x)

# Define the gradient of the custom function
@tf.custom_gradient
def custom_function_with_gradient(x):
    # Forward pass
    y = custom_function(x)

    # Define gradient function
    def grad(dy):
        return 2 * x * dy  # Gradient of x^2 is 2x

    return y, grad

# Example usage
x = tf.constant(3.0)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = custom_function_with_gradient(x)

# Compute gradients
grad = tape.gradient(y, x)

print("Function output:", y.numpy())
print("Gradient:", grad.numpy())
