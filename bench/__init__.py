"""Benchmarks: each prints a table and a ratio against a reference measured in the same run."""
