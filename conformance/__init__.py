"""polytape's conformance suite: a pytest plugin that certifies backends and devices."""
