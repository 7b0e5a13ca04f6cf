"""``DataLoader``: batches from a dataset, in order or shuffled, resumable mid-epoch.

When the dataset has ``get_batch(indices)`` (``TensorDataset``, ``Subset`` of one, the
file and bundled datasets) and no ``collate_fn`` is given, each batch is built by one
fancy-index per array instead of a Python loop over samples; otherwise samples are
fetched one by one and joined with ``default_collate``.
"""

from __future__ import annotations

import numpy as np

from axonic.backend.random import Generator, default_generator
from axonic.data.collate import default_collate, default_convert
from axonic.data.dataset import IterableDataset
from axonic.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from axonic.data.transforms import using_generator


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    Arguments follow PyTorch: ``shuffle`` draws a new order each epoch from
    ``generator`` (an ``axonic.Generator``; the default generator when None, so
    ``axonic.manual_seed`` reproduces it); ``sampler`` / ``batch_sampler`` give the order
    instead; ``drop_last`` drops a short last batch; ``collate_fn`` joins a list of
    samples (``default_collate`` when None). ``num_workers`` and ``pin_memory`` are
    accepted for compatibility; loading happens in the calling process.

    ``seed`` (an axonic addition) makes the loader deterministic per epoch: the order of
    epoch ``e`` is ``np.random.default_rng([seed, e]).permutation(len(dataset))`` and
    the random augmentations of batch ``b`` draw from a generator seeded with
    ``[seed, e, b]``. The epoch advances by one per pass; ``set_epoch(e)`` sets it.
    ``state_dict()`` / ``load_state_dict()`` capture the epoch and the position inside
    it, so a resumed run yields exactly the batches the interrupted one had left.

    >>> import numpy as np
    >>> from axonic.data import TensorDataset
    >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=123)
    >>> len(loader), [y.tolist() for _, y in loader] == [y.tolist() for _, y in loader]
    (3, False)
    >>> loader.set_epoch(0); a = [y.tolist() for _, y in loader]
    >>> loader.set_epoch(0); a == [y.tolist() for _, y in loader]
    True
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 generator=None, *, seed=None, **_compat):
        unknown = set(_compat) - {"timeout", "worker_init_fn", "prefetch_factor",
                                   "persistent_workers", "multiprocessing_context",
                                   "pin_memory_device", "in_order"}
        if unknown:
            raise TypeError(f"DataLoader: unexpected keyword argument(s) {sorted(unknown)}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative, got "
                             f"{num_workers!r}")
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError("DataLoader: batch_size should be a positive integer or None, got "
                             f"{batch_size!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError("DataLoader: generator must be an axonic.Generator, got "
                            f"{type(generator).__name__}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass seed or generator, not both (with seed, each "
                             "epoch's order comes from (seed, epoch) alone)")
        if seed is not None and sampler is not None:
            raise ValueError("DataLoader: seed sets the shuffle order; it can't be combined "
                             "with a sampler (seed that sampler instead)")
        self._stream = isinstance(dataset, IterableDataset)
        if self._stream and (shuffle or sampler is not None or batch_sampler is not None
                             or seed is not None):
            raise ValueError("DataLoader with IterableDataset: shuffle, sampler, batch_sampler "
                             "and seed don't apply to a stream; order the stream itself")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.collate_fn = collate_fn
        self.generator = generator
        self.seed = seed
        if sampler is None and self._stream:
            sampler = _StreamOrder()
        elif sampler is None:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator, seed=seed)
            else:
                sampler = SequentialSampler(dataset)
        self.sampler = sampler
        # batch_size=None turns batching off: samples come one by one, converted to tensors
        self.batch_size = None if batch_sampler is not None else batch_size
        if batch_sampler is None and batch_size is not None and not self._stream:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self._epoch = 0  # the epoch the next pass runs (for a seeded loader)
        self._current = None  # {"epoch", "batch", "generator"} while a pass runs
        self._resume = None

    def __len__(self) -> int:
        if self._stream:
            n = len(self.dataset)  # TypeError for a stream without __len__, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    # --- epochs and resumption ---------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Make the next pass run epoch ``epoch`` (its order and augmentation draws)."""
        if not isinstance(epoch, int | np.integer) or epoch < 0:
            raise ValueError(f"DataLoader.set_epoch: epoch must be a non-negative int, got "
                             f"{epoch!r}")
        self._epoch = int(epoch)
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(int(epoch))
        self._resume = None

    @property
    def epoch(self) -> int:
        """The epoch of the pass in progress, or of the next pass between passes."""
        return self._current["epoch"] if self._current else self._epoch

    def state_dict(self) -> dict:
        """The epoch, the batches already yielded in it and, for an unseeded shuffle,
        the generator state its order was drawn from (plain JSON-able data)."""
        if self._current is not None:
            return dict(self._current)
        if self._resume is not None:
            return dict(self._resume)
        return {"epoch": self._epoch, "batch": 0, "generator": None}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``: the next pass yields the batches that were left."""
        if not isinstance(state, dict) or not {"epoch", "batch"} <= set(state):
            raise ValueError("DataLoader.load_state_dict: expected a dict from state_dict() "
                             f"with keys 'epoch' and 'batch', got {state!r}")
        if not self._stream and not 0 <= state["batch"] <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {state['batch']} is outside "
                             f"an epoch of {len(self)} batches")
        if not self._stream and state["batch"] == len(self):  # a finished epoch: start afresh
            self.set_epoch(int(state["epoch"]) + 1)
            return
        self.set_epoch(int(state["epoch"]))
        self._resume = {"epoch": int(state["epoch"]), "batch": int(state["batch"]),
                        "generator": state.get("generator")}

    def _epoch_order(self, s, epoch: int, resume):
        """One pass of sampler ``s`` and the generator state it was drawn from; a resumed
        pass redraws the interrupted order from the saved state on a copy of the
        generator, leaving the live one alone."""
        if not isinstance(s, Sampler):
            return None, None  # a plain iterable of indices: read as it comes
        if getattr(s, "seed", None) is not None:
            s.set_epoch(epoch)  # the loader's epoch is the one that counts
            return s.order(), None
        if not hasattr(s, "generator"):  # not random
            return s.order(), None
        if resume and resume["batch"]:
            if resume.get("generator") is None:
                raise ValueError("DataLoader: the state has no generator state to replay the "
                                 "interrupted shuffle from; save it with state_dict() while "
                                 "the epoch runs, or give the loader a seed")
            live, s.generator = s.generator, Generator()
            s.generator.set_state(resume["generator"])
            try:
                return s.order(), resume["generator"]
            finally:
                s.generator = live
        state = (s.generator or default_generator).get_state()
        return s.order(), state

    def _epoch_batches(self):
        """This pass's batches as index arrays, and the state that reproduces them."""
        resume, self._resume = self._resume, None
        epoch = self._epoch
        self._epoch = epoch + 1
        gen_state = None
        if self.batch_sampler is None:  # batch_size=None: one sample at a time
            order, gen_state = self._epoch_order(self.sampler, epoch, resume)
            batches = (order if order is not None else list(self.sampler))
            batches = [int(i) for i in batches]
        elif isinstance(self.batch_sampler, BatchSampler):
            order, gen_state = self._epoch_order(self.batch_sampler.sampler, epoch, resume)
            batches = self.batch_sampler.batches(order)
        else:
            batches = [np.asarray(b, dtype=np.int64) for b in self.batch_sampler]
        skip = resume["batch"] if resume else 0
        return epoch, batches, skip, gen_state

    # --- iteration ------------------------------------------------------------------------
    def _augment_generator(self, epoch: int, b: int):
        """The generator for batch ``b``'s augmentations: a factory, so batches without
        random transforms never pay for seeding one."""
        if self.seed is None:
            return self.generator
        seed = int(self.seed)

        def make():
            g = Generator()
            g.rng = np.random.Generator(np.random.PCG64([seed, epoch, b]))
            return g

        return make

    def _fetch(self, idx):
        ds = self.dataset
        if self.batch_sampler is None:
            sample = ds[idx]
            return default_convert(sample) if self.collate_fn is None else \
                self.collate_fn(sample)
        if self.collate_fn is None and hasattr(ds, "get_batch"):
            return ds.get_batch(idx)
        if hasattr(ds, "__getitems__"):
            samples = ds.__getitems__(idx.tolist())
        else:
            samples = [ds[i] for i in idx.tolist()]
        return (self.collate_fn or default_collate)(samples)

    def _stream_batches(self):
        """Batches of a stream: consecutive samples grouped, collated (or one by one)."""
        collate = self.collate_fn or default_collate
        if self.batch_size is None:
            for sample in self.dataset:
                yield default_convert(sample) if self.collate_fn is None else collate(sample)
            return
        group = []
        for sample in self.dataset:
            group.append(sample)
            if len(group) == self.batch_size:
                yield collate(group)
                group = []
        if group and not self.drop_last:
            yield collate(group)

    def _iter_stream(self):
        resume, self._resume = self._resume, None
        epoch = self._epoch
        self._epoch = epoch + 1
        skip = resume["batch"] if resume else 0
        current = self._current = {"epoch": epoch, "batch": skip, "generator": None}
        try:
            for b, batch in enumerate(self._stream_batches()):
                if b < skip:  # a stream can only be replayed up to where it stopped
                    continue
                current["batch"] = b + 1
                yield batch
        finally:
            if self._current is current:
                self._current = None

    def __iter__(self):
        if self._stream:
            yield from self._iter_stream()
            return
        epoch, batches, skip, gen_state = self._epoch_batches()
        current = self._current = {"epoch": epoch, "batch": skip, "generator": gen_state}
        try:
            for b in range(skip, len(batches)):
                with using_generator(self._augment_generator(epoch, b)):
                    batch = self._fetch(batches[b])
                current["batch"] = b + 1
                yield batch
        finally:
            if self._current is current:  # a pass left early counts as done, as in PyTorch
                self._current = None


class _StreamOrder(Sampler):
    """The loader's sampler for a stream: the stream decides the order."""

    def __iter__(self):
        raise TypeError("an IterableDataset has no sampler order; iterate the DataLoader")
