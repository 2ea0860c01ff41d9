"""Benchmarks behind ``cliport bench ...``: speed targets live here, not in unit tests."""
