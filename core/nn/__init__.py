"""Keras-style layers, models and losses on polytape tensors."""
