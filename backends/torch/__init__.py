"""The PyTorch bridge backend: torch ops as kernels, torch autograd never engaged.

``backend.py`` holds :class:`TorchBackend`, ``kernels.py`` the op-name -> kernel
mapping, ``plugin.py`` the pluggy registration. Importing this package does not
import torch.
"""
