"""The NumPy backend: polytape's reference backend (CPU, every canonical dtype)."""
