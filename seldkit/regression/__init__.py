"""Regression suites under ``metrics/regression/``, run by ``seldkit verify``."""
