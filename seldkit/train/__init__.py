"""Training of the reference models (SPEC §7): configuration, optimiser and schedule, the loop with
checkpoints and resume, multi-process training and evaluation, and the run's outputs."""
