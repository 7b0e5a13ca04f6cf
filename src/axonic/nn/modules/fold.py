"""``torch.nn.modules.fold``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn.fold import Fold, Unfold

__all__ = ["Fold", "Unfold"]
