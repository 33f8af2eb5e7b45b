"""Compatibility namespaces shaped like other frameworks (``polytape.compat.tensorflow``)."""
