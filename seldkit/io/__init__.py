"""Readers and writers with strict validation."""
