"""Keras' ``Embedding`` layer: integer ids to rows of a trainable table."""

from __future__ import annotations

from typing import Any

from .. import ops
from ..creation import convert_to_tensor
from ..errors import InvalidArgumentError
from ..tensor import Tensor
from . import initializers as initializers_module
from .convolution import embedding_lookup
from .layers import Layer

__all__ = ["Embedding"]


class Embedding(Layer):
    """Maps ids in ``[0, input_dim)`` to vectors of ``output_dim``: ``embeddings`` has shape
    ``(input_dim, output_dim)`` and starts uniform in [-0.05, 0.05] (Keras' default)."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 mask_zero: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mask_zero:
            raise InvalidArgumentError("Embedding: polytape does not provide mask_zero=True")
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise InvalidArgumentError(f"Embedding: input_dim and output_dim must be positive, "
                                       f"got {input_dim} and {output_dim}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        if embeddings_initializer == "uniform":  # Keras' name for RandomUniform(-0.05, 0.05)
            embeddings_initializer = initializers_module.RandomUniform(-0.05, 0.05)
        self.embeddings_initializer = initializers_module.get(embeddings_initializer)
        self.embeddings = None

    def _convert(self, inputs: Any) -> Any:
        # Ids stay integers (Layer._convert would cast floating inputs to the layer's dtype).
        t = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        return ops.cast(t, "int32") if t.dtype.is_floating else t

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings")
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        return embedding_lookup(self.embeddings, inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim}
