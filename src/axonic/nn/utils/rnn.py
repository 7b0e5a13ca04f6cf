"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``:
``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ``pad_sequence``,
``pack_sequence``, ``unpad_sequence`` and ``unpack_sequence``. ``nn.RNN``, ``nn.LSTM``
and ``nn.GRU`` take a ``PackedSequence`` and return one, each sequence's final state
taken at its own last step.

A packed sequence holds the steps of a batch sorted by decreasing length, time-major:
``data`` is the first step of every sequence, then the second step of those at least two
long, and so on; ``batch_sizes[t]`` is how many sequences are longer than ``t``.
Every function here is made of differentiable ops (indexing, padding, stacking).

>>> import axonic
>>> seqs = [axonic.tensor([1.0, 2.0, 3.0]), axonic.tensor([4.0]), axonic.tensor([5.0, 6.0])]
>>> packed = pack_sequence(seqs, enforce_sorted=False)
>>> packed.data.tolist(), packed.batch_sizes.tolist()
([1.0, 5.0, 4.0, 2.0, 6.0, 3.0], [3, 2, 1])
>>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
>>> padded.tolist(), lengths.tolist()
([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0], [5.0, 6.0, 0.0]], [3, 1, 2])
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy


def _ints(values) -> np.ndarray:
    return np.asarray(to_numpy(values._data) if isinstance(values, Tensor) else values,
                      dtype=np.int64)


def _index_tensor(values) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.int64))


class PackedSequence:
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, unpackable like PyTorch's
    named tuple. ``sorted_indices[i]`` is the original batch index of the ``i``-th longest
    sequence (None when the batch was already sorted); ``unsorted_indices`` inverts it."""

    __slots__ = ("data", "batch_sizes", "sorted_indices", "unsorted_indices")

    def __init__(self, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _index_tensor(np.argsort(_ints(sorted_indices)))
        self.data, self.batch_sizes = data, batch_sizes
        self.sorted_indices, self.unsorted_indices = sorted_indices, unsorted_indices

    def __iter__(self):
        return iter((self.data, self.batch_sizes, self.sorted_indices, self.unsorted_indices))

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i):
        return tuple(self)[i]

    def to(self, *args, **kwargs) -> PackedSequence:
        """The data moved or cast (``Tensor.to``'s arguments); the sizes and indices stay."""
        return PackedSequence(self.data.to(*args, **kwargs), self.batch_sizes,
                              self.sorted_indices, self.unsorted_indices)

    def __repr__(self) -> str:
        return (f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes!r}, "
                f"sorted_indices={self.sorted_indices!r}, "
                f"unsorted_indices={self.unsorted_indices!r})")


def _positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time, batch) of each row of a packed ``data``, in order."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    rows = np.concatenate([np.arange(b) for b in batch_sizes]) if len(batch_sizes) else steps
    return steps, rows


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded ``(T, B, *)`` batch (``(B, T, *)`` with ``batch_first``) whose
    sequences have the given ``lengths``. With ``enforce_sorted`` the lengths must be in
    decreasing order; otherwise the batch is sorted here and the order is kept in
    ``sorted_indices``."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected a padded tensor of at least 2 dims, "
                         f"got {tuple(input.shape) if isinstance(input, Tensor) else input!r}")
    x = input.transpose(0, 1) if batch_first else input
    lengths = _ints(lengths)
    if lengths.ndim != 1 or len(lengths) != x.shape[1]:
        raise ValueError(f"pack_padded_sequence: expected {x.shape[1]} lengths (one per "
                         f"sequence of the batch), got {lengths.tolist()}")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > x.shape[0]):
        raise ValueError(f"pack_padded_sequence: every length must be between 1 and the padded "
                         f"length {x.shape[0]}, got {lengths.tolist()}")
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"pack_padded_sequence: lengths must be in decreasing order when "
                             f"enforce_sorted=True, got {lengths.tolist()}; pass "
                             "enforce_sorted=False to have them sorted here")
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _index_tensor(order)
        lengths = lengths[order]
        x = x[:, order]
    batch_sizes = np.array([(lengths > t).sum() for t in range(int(lengths.max()))],
                           dtype=np.int64)
    steps, rows = _positions(batch_sizes)
    return PackedSequence(x[steps, rows], _index_tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Unpack to ``(padded, lengths)``: the padded batch in the original order, ``(T, B, *)``
    (``(B, T, *)`` with ``batch_first``), ``T`` the longest length or ``total_length``,
    and each sequence's length."""
    from axonic.ops.creation import full

    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got "
                        f"{type(sequence).__name__}")
    batch_sizes = _ints(sequence.batch_sizes)
    steps, rows = _positions(batch_sizes)
    T = len(batch_sizes)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length must be at least the longest "
                             f"sequence's length {T}, got {total_length}")
        T = int(total_length)
    data = sequence.data
    out = full((T, int(batch_sizes[0]), *data.shape[1:]), padding_value, dtype=data.dtype,
               device=data.device)
    out[steps, rows] = data
    lengths = np.array([(batch_sizes > b).sum() for b in range(int(batch_sizes[0]))],
                       dtype=np.int64)
    if sequence.unsorted_indices is not None:
        order = _ints(sequence.unsorted_indices)
        out, lengths = out[:, order], lengths[order]
    return (out.transpose(0, 1) if batch_first else out), _index_tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), padded with ``padding_value`` on the right (or the left)."""
    from axonic.ops.join import pad, stack

    sequences = list(sequences)
    if not sequences or not all(isinstance(s, Tensor) and s.ndim >= 1 for s in sequences):
        raise ValueError("pad_sequence: expected a non-empty list of tensors of at least one "
                         "dim")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got "
                         f"{padding_side!r}")
    rest = sequences[0].shape[1:]
    if any(s.shape[1:] != rest for s in sequences):
        raise ValueError(f"pad_sequence: every tensor must have the trailing shape {rest}, got "
                         f"{[tuple(s.shape) for s in sequences]}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        widths = (extra, 0) if padding_side == "left" else (0, extra)
        padded.append(pad(s, (0, 0) * len(rest) + widths, value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The list of sequences of a padded batch, each cut to its length."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :n] for i, n in enumerate(_ints(lengths).tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences of a packed batch, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def packed_output(padded, packed: PackedSequence) -> PackedSequence:
    """A recurrent layer's padded ``(T, B, *)`` output, in ``packed``'s sorted order, as a
    PackedSequence like ``packed``."""
    steps, rows = _positions(_ints(packed.batch_sizes))
    return PackedSequence(padded[steps, rows], packed.batch_sizes, packed.sorted_indices,
                          packed.unsorted_indices)


def chunks(batch_sizes) -> list[tuple[int, int, int]]:
    """``(start, stop, active)``: the runs of steps over which the same sequences (the
    ``active`` longest) are still running."""
    sizes = _ints(batch_sizes).tolist()
    out, start = [], 0
    for t in range(1, len(sizes) + 1):
        if t == len(sizes) or sizes[t] != sizes[start]:
            out.append((start, t, sizes[start]))
            start = t
    return out


__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]
