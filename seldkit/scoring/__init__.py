"""Scoring pipelines: files in, validated results out, one module per task."""
