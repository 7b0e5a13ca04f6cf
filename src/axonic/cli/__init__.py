"""The ``axonic`` command line: ``axonic train / evaluate / predict / summary``."""
