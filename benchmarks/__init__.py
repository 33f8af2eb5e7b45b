"""polytape's benchmarks against its peers (run from the repository root, not installed).

``python -m benchmarks`` runs every workload on polytape (each available backend)
and on the peers that are installed -- PyTorch autograd, HIPS autograd,
TensorFlow eager, and a hand-written NumPy forward+backward (the floor) --
interleaving their repetitions in one process, then prints the medians and
the ratios polytape / peer and writes them to ``benchmarks/results.json``.
``--quick`` takes few repetitions, ``--only NAME`` runs one workload.

Benchmarks never run as tests: ``tests/test_benchmarks_smoke.py`` only checks
that the runner works and writes the expected keys.
"""
