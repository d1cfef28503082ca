"""Benchmarks of clustaar.webhook: ``python -m benchmarks`` (``make bench``)."""
