"""The loaders of one ``Trainer.fit``: the shuffle seed (the checkpoint's when resuming),
the held-out validation split, the training loader (sharded across processes in a
distributed run) and the checks that a resumed run sees the same order of batches."""

from __future__ import annotations

import axonic
from axonic.train import inputs


def fit_loaders(trainer, train, validation, validation_split, batch_size: int,
                shuffle: bool, state: dict | None):
    """``(train_loader, val_loader, loader_seed)`` for ``trainer.fit``'s arguments.

    >>> import numpy as np
    >>> from axonic import nn
    >>> from axonic.train import Trainer
    >>> X, y = np.zeros((10, 2), np.float32), np.zeros(10, np.int64)
    >>> train, val, seed = fit_loaders(Trainer(nn.Linear(2, 2), seed=3), (X, y), None, 0.2,
    ...                                4, True, None)
    >>> len(train.dataset), len(val.dataset), seed
    (8, 2, 3)
    """
    seed = trainer.seed
    if state is not None:
        seed = state["loader"]["seed"]
    elif seed is None:
        seed = int(axonic.randint(0, 2**31 - 1, (1,)).item())
    if validation_split:
        train, validation = inputs.split(train, validation_split, seed)
    parallel = trainer.data_parallel
    if parallel is not None and not inputs._is_loader(train):
        loader = parallel.loader(inputs.as_dataset(train), batch_size, shuffle, seed)
    else:
        loader = inputs.as_loader(train, batch_size, shuffle, seed)
    val_loader = None if validation is None else inputs.as_loader(
        validation, batch_size, False, None, "fit (validation)")
    loader_seed = seed if parallel is not None else loader.seed
    if state is not None and loader_seed != state["loader"]["seed"]:
        raise ValueError(f"fit: the DataLoader's seed {loader_seed!r} differs from "
                         f"the checkpoint's {state['loader']['seed']!r}; the resumed run "
                         "would see another shuffle order")
    if len(loader) == 0:
        raise ValueError("fit: the training data is empty")
    return loader, val_loader, loader_seed
