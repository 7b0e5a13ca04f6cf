"""Samplers: the order in which a ``DataLoader`` visits a dataset.

Each sampler iterates over indices like PyTorch's; ``order()`` gives the same indices
as one NumPy array, which lets the loader slice batches without a Python loop.

``RandomSampler(..., seed=s)`` makes the order of epoch ``e`` a pure function of
``(s, e)``: ``np.random.default_rng([s, e]).permutation(n)``. ``set_epoch(e)`` picks
the epoch (as ``DistributedSampler.set_epoch`` does in PyTorch), so a run resumed at
epoch ``e`` sees exactly the order the first run saw.

Draws with replacement beyond ``LAZY_DRAWS`` indices (``num_samples=int(1e10)``, the
"endless" loader of many training scripts) are made lazily, a chunk at a time, as the
loader reaches them.
"""

from __future__ import annotations

import numpy as np

from axonic.backend.random import Generator, default_generator

LAZY_DRAWS = 1 << 20  # above this many draws with replacement, draw as the loader goes
_CHUNK = 1 << 16  # indices drawn at a time by a lazy order (8 bytes each)


class LazyDraws:
    """``num_samples`` indices in ``[0, n)`` from ``rng``, drawn a chunk at a time as they are
    read front to back; reads by slice (``order[i:j]``) or by iteration. The values equal
    one ``rng.integers(0, n, num_samples)`` call (NumPy's draws do not depend on chunking).

    >>> order = LazyDraws(np.random.default_rng(0), 10, 10**12)
    >>> len(order), order[:3].tolist() == np.random.default_rng(0).integers(0, 10, 3).tolist()
    (1000000000000, True)
    """

    def __init__(self, rng, n: int, num_samples: int):
        self.rng, self.n, self.num_samples = rng, n, num_samples
        self._buf = np.empty(0, np.int64)
        self._start = 0  # the index of self._buf[0]

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("LazyDraws: read it by contiguous slices, front to back")
        a, b, _ = key.indices(self.num_samples)
        if a < self._start:
            raise IndexError(f"LazyDraws: indices before {self._start} were already dropped; "
                             "a lazy order is read once, front to back")
        while self._start + self._buf.size < b:
            take = min(_CHUNK, self.num_samples - self._start - self._buf.size)
            drawn = self.rng.integers(0, self.n, take, dtype=np.int64)
            self._buf = np.concatenate([self._buf, drawn])
            self._forget_before(a)  # a skip far ahead keeps one chunk in memory, not all
        self._forget_before(a)
        return self._buf[: b - a]

    def _forget_before(self, a: int) -> None:
        cut = min(max(a - self._start, 0), self._buf.size)
        self._buf, self._start = self._buf[cut:], self._start + cut

    def __iter__(self):
        for i in range(0, self.num_samples, _CHUNK):
            yield from self[i : i + _CHUNK].tolist()


class Sampler:
    """Base class: subclasses define ``__iter__`` (and usually ``__len__``)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def order(self) -> np.ndarray:
        """The indices of one pass as an int64 array (draws a new order when random)."""
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __len__(self) -> int:
        return len(self.data_source)

    def order(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(self.order().tolist())


def _check_generator(generator, who):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be an axonic.Generator, got "
                        f"{type(generator).__name__}")


class RandomSampler(Sampler):
    """A random permutation each epoch (or ``num_samples`` draws with replacement).

    Without ``seed`` the order is drawn from ``generator`` (the default generator when
    None, so ``axonic.manual_seed`` reproduces it). With ``seed`` the order of epoch
    ``e`` is ``np.random.default_rng([seed, e]).permutation(n)``; the epoch advances by
    one on each pass and ``set_epoch(e)`` sets it.

    >>> s = RandomSampler(range(5), seed=1)
    >>> s.set_epoch(3)
    >>> a = list(s)
    >>> s.set_epoch(3)
    >>> a == list(s)
    True
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None,
                 seed=None):
        _check_generator(generator, "RandomSampler")
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError("RandomSampler: num_samples should be a positive integer, got "
                             f"{num_samples!r}")
        if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
            raise ValueError(f"RandomSampler: seed must be a non-negative int, got {seed!r}")
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator
        self.seed = None if seed is None else int(seed)
        self.epoch = 0  # the epoch whose order the next pass draws

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass draw the order of ``epoch``."""
        if not isinstance(epoch, int | np.integer) or epoch < 0:
            raise ValueError(f"set_epoch: epoch must be a non-negative int, got {epoch!r}")
        self.epoch = int(epoch)

    def epoch_rng(self, epoch: int) -> np.random.Generator:
        """The NumPy generator that draws the order of ``epoch`` (``seed`` set only)."""
        return np.random.default_rng([self.seed, int(epoch)])

    def _draw(self, rng, own_rng: bool) -> np.ndarray | LazyDraws:
        n = len(self.data_source)
        if self.replacement and self.num_samples > LAZY_DRAWS:
            # from a generator shared with other draws, take a child so the order is fixed now
            return LazyDraws(rng if own_rng else np.random.default_rng(int(rng.integers(2**63))),
                             n, self.num_samples)
        if self.replacement:
            return rng.integers(0, n, self.num_samples, dtype=np.int64)
        reps = -(-self.num_samples // n) if n else 0
        perm = np.concatenate([rng.permutation(n) for _ in range(reps)] or [np.empty(0)])
        return perm[: self.num_samples].astype(np.int64)

    def order(self) -> np.ndarray | LazyDraws:
        """The indices of one pass: an array, or a ``LazyDraws`` for a long draw with
        replacement."""
        epoch = self.epoch
        self.epoch = epoch + 1
        if self.seed is not None:
            return self._draw(self.epoch_rng(epoch), True)
        return self._draw((self.generator or default_generator).rng, False)

    def __iter__(self):
        order = self.order()
        return iter(order) if isinstance(order, LazyDraws) else iter(order.tolist())


class SubsetRandomSampler(Sampler):
    """The given indices in a random order drawn from ``generator``.

    >>> sorted(SubsetRandomSampler([4, 2, 9]))
    [2, 4, 9]
    """

    def __init__(self, indices, generator=None):
        _check_generator(generator, "SubsetRandomSampler")
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = generator

    def __len__(self) -> int:
        return int(self.indices.size)

    def order(self) -> np.ndarray:
        gen = self.generator or default_generator
        return self.indices[gen.permutation(self.indices.size)]

    def __iter__(self):
        return iter(self.order().tolist())


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], num_samples=4)
    >>> list(s)
    [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_generator(generator, "WeightedRandomSampler")
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             f"not all zero, got {np.asarray(weights).tolist()[:8]}")
        if not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError("WeightedRandomSampler: num_samples should be a positive integer, "
                             f"got {num_samples!r}")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: can't draw {num_samples} samples without "
                             f"replacement from {int((w > 0).sum())} non-zero weights")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = bool(replacement)
        self.generator = generator

    def __len__(self) -> int:
        return self.num_samples

    def order(self) -> np.ndarray:
        gen = self.generator or default_generator
        p = self.weights / self.weights.sum()
        return gen.rng.choice(p.size, self.num_samples, replace=self.replacement,
                              p=p).astype(np.int64)

    def __iter__(self):
        return iter(self.order().tolist())


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    >>> list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError("BatchSampler: batch_size should be a positive integer, got "
                             f"{batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def batches(self, order: np.ndarray | None = None) -> list | _LazyBatches:
        """One pass as a list of index arrays (``order`` defaults to a new draw); a lazy
        sequence of them when the order is drawn lazily."""
        order = _order_of(self.sampler) if order is None else order
        bs = self.batch_size
        end = len(order) - len(order) % bs if self.drop_last else len(order)
        if isinstance(order, LazyDraws):
            return _LazyBatches(order, bs, end)
        return [order[i : i + bs] for i in range(0, end, bs)]

    def __iter__(self):
        batches = self.batches()
        return (batches[b].tolist() for b in range(len(batches)))


class _LazyBatches:
    """Batch ``b`` of a lazily drawn order, made when it is asked for (front to back)."""

    def __init__(self, order: LazyDraws, batch_size: int, end: int):
        self.order, self.batch_size, self.end = order, batch_size, end

    def __len__(self) -> int:
        return -(-self.end // self.batch_size)

    def __getitem__(self, b: int) -> np.ndarray:
        i = b * self.batch_size
        return self.order[i : min(i + self.batch_size, self.end)]


def _order_of(sampler) -> np.ndarray:
    if isinstance(sampler, Sampler):
        return sampler.order()
    return np.fromiter(iter(sampler), dtype=np.int64)
