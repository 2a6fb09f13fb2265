"""Smoke tests that keep the benchmarks runnable."""
