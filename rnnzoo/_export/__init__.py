"""Internals of :mod:`rnnzoo.export` (tracing, the converter child process)."""
