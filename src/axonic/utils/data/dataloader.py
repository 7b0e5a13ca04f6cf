"""``torch.utils.data.dataloader``'s names: ``DataLoader``, ``default_collate`` and
``get_worker_info`` (loading runs in the calling process, so there is no worker).

>>> get_worker_info() is None
True
"""

from axonic.data.collate import default_collate, default_convert
from axonic.data.dataloader import DataLoader

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


def get_worker_info():
    """``None``, as PyTorch returns in the main process: axonic's ``DataLoader`` loads every
    batch in the calling process whatever ``num_workers`` says."""
    return None
