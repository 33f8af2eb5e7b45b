"""The CuPy backend: the shared array-module kernels on ``cupy`` (CUDA GPUs)."""
