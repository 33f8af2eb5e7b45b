"""The PyTorch bridge backend: torch ops as kernels, torch autograd never engaged."""
