"""Benchmarks of the hot endpoints (``make bench``)."""
