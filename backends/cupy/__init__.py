"""The CuPy backend: the shared array-module kernels on ``cupy`` (CUDA GPUs).

``backend.py`` holds :class:`CupyBackend`, ``plugin.py`` the pluggy
registration. Importing this package does not import cupy.
"""
