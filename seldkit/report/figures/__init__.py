"""Figure builders: pure functions from arrays to :class:`matplotlib.figure.Figure` (no pyplot state)."""
