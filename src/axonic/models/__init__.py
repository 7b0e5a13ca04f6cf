"""Ready-made models: ``Perceptron`` (Rosenblatt, 1957)."""

from axonic.models.perceptron import Perceptron

__all__ = ["Perceptron"]
