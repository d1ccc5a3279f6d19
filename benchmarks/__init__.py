"""Benchmark scripts behind `make bench` (see docs/benchmarks.md)."""
