"""Reading and writing: ``save`` / ``load`` of checkpoints (safetensors, plus a JSON tree
for nested ones) and reading PyTorch ``.pt``/``.pth`` files without PyTorch."""

from axonic.io.checkpoint import load, save
from axonic.io.pickle_vm import CheckpointError, ForbiddenGlobalError

__all__ = ["CheckpointError", "ForbiddenGlobalError", "load", "save"]
