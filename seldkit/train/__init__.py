"""Training of the reference models.

Configuration, optimiser and schedule, the loop with checkpoints and resume, multi-process training and
evaluation, and the run's outputs.
"""
