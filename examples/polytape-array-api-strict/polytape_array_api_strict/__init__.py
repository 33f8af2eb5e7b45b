"""polytape backend plugin over ``array-api-strict``, the reference Array API namespace.

Install it next to polytape and the backend appears::

    pip install -e examples/polytape-array-api-strict
    polytape backends
    polytape conformance --backend array_api_strict
"""

__version__ = "0.1.0"
