"""Metrics: pure functions over arrays plus accumulators for streaming / distributed use."""
