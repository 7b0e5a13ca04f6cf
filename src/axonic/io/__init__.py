"""Reading and writing: ``save`` / ``load`` of state dicts as safetensors files."""

from axonic.io.safetensors import load, save

__all__ = ["load", "save"]
