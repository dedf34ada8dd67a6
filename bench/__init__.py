"""Benchmarks: each prints its figure beside the baseline measured in the same run (``make bench``)."""
