"""``CharCorpus``: a text as (input, next-character target) windows for language models."""

from __future__ import annotations

import os

import numpy as np

from axonic.autograd.tensor import _make
from axonic.data.dataset import Dataset


class CharCorpus(Dataset):
    """Windows of ``seq_len`` character ids and the same window shifted by one.

    ``source`` is the text itself (a ``str``) or a file to read (an ``os.PathLike``,
    e.g. ``pathlib.Path``; or pass ``path=``). The vocabulary is the sorted set of
    characters (or ``vocab`` given, e.g. the training corpus's for a test text):
    ``stoi`` / ``itos`` map between characters and ids; ``encode`` / ``decode`` convert
    whole strings. Window ``i`` starts at ``i * stride``.

    >>> c = CharCorpus("hello", seq_len=3)
    >>> x, y = c[0]
    >>> c.decode(x), c.decode(y), len(c), c.vocab_size
    ('hel', 'ell', 2, 4)
    """

    def __init__(self, source=None, seq_len=64, stride=1, *, path=None, vocab=None,
                 encoding="utf-8"):
        if path is not None or isinstance(source, os.PathLike):
            with open(path if path is not None else source, encoding=encoding) as f:
                text = f.read()
        elif isinstance(source, str):
            text = source
        else:
            raise TypeError("CharCorpus: expected the text (str) or a path (pathlib.Path or "
                            f"path=...), got {type(source).__name__}")
        for name, v in (("seq_len", seq_len), ("stride", stride)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"CharCorpus: {name} must be a positive int, got {v!r}")
        if len(text) < seq_len + 1:
            raise ValueError(f"CharCorpus: the text has {len(text)} characters; a window of "
                             f"seq_len={seq_len} needs at least {seq_len + 1}")
        self.itos = list(vocab) if vocab is not None else sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}
        self.text = text
        self.seq_len = seq_len
        self.stride = stride
        self.data = self.encode(text)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        """Character ids (int64) of ``text``."""
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            raise KeyError(f"CharCorpus.encode: character(s) {unknown[:10]} are not in the "
                           f"vocabulary of {self.vocab_size}")
        lut = self.stoi
        return np.fromiter((lut[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """The text of a sequence of ids (a list, array or Tensor)."""
        ids = np.asarray(getattr(ids, "_data", ids)).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"CharCorpus.decode: ids must be in [0, {self.vocab_size}), got "
                             f"range [{ids.min()}, {ids.max()}]")
        return "".join(self.itos[i] for i in ids.tolist())

    def __len__(self) -> int:
        return (self.data.size - self.seq_len - 1) // self.stride + 1

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"CharCorpus: index {index} is out of range for {n} windows")
        s = (index % n) * self.stride
        return (_make(self.data[s : s + self.seq_len].copy()),
                _make(self.data[s + 1 : s + 1 + self.seq_len].copy()))

    def get_batch(self, indices):
        """Windows at ``indices`` as two ``(B, seq_len)`` int64 tensors, in one gather."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.max() >= n or idx.min() < -n):
            raise IndexError(f"CharCorpus: indices reach {int(idx.max())} but there are {n} "
                             "windows")
        pos = (idx % n)[:, None] * self.stride + np.arange(self.seq_len)
        return _make(self.data[pos]), _make(self.data[pos + 1])
