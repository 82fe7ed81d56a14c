"""The ``seldkit`` command: one module per command group, heavy imports inside the commands."""
