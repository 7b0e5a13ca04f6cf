"""``HistogramObserver``: keeps a histogram of the values seen and picks the range that
minimises the L2 quantisation error (PyTorch's algorithm, from caffe2's norm
minimisation), which clips rare outliers that MinMax would have to cover.

>>> import numpy as np
>>> obs = HistogramObserver(bins=64)
>>> _ = obs(np.linspace(-1, 1, 1000, dtype=np.float32))
>>> scale, zp = obs.calculate_qparams()
>>> 0.007 < float(scale[0]) < 0.008, int(zp[0])
(True, 130)
"""

from __future__ import annotations

import numpy as np

from axonic.quantization import observer as _observer
from axonic.quantization.observer import ObserverBase
from axonic.quantization.qtypes import per_tensor_affine, quint8


def histc(v: np.ndarray, bins: int, lo, hi) -> np.ndarray:
    """``torch.histc``: ``bins`` equal bins over [lo, hi] (float32 positions), values at
    ``hi`` in the last bin, values outside ignored."""
    lo, hi = np.float32(lo), np.float32(hi)
    if lo == hi:
        lo, hi = lo - np.float32(1), hi + np.float32(1)
    v = v[(v >= lo) & (v <= hi)]
    pos = ((v - lo) * np.float32(bins) / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return np.bincount(pos, minlength=bins).astype(np.float32)


class HistogramObserver(ObserverBase):
    """Per-tensor observer choosing min/max by a search over a ``bins``-bin histogram."""

    def __init__(self, bins: int = 2048, dtype=quint8, qscheme=per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None, **kwargs):
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"HistogramObserver: bins must be a positive integer, got {bins!r}")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, **kwargs)
        self.bins = bins
        self.histogram = np.zeros(bins, np.float32)
        self.dst_nbins = 2 ** self.dtype.bits
        self.upsample_rate = 16

    def observe(self, v):
        v = v[np.isfinite(v)]
        if not v.size:
            return
        lo, hi = v.min(), v.max()
        if not np.isfinite(self.min_val) or not np.isfinite(self.max_val):
            self.min_val, self.max_val = np.array(lo), np.array(hi)
            self.histogram = histc(v, self.bins, lo, hi)
            return
        new_min, new_max = np.minimum(self.min_val, lo), np.maximum(self.max_val, hi)
        update = histc(v, self.bins, new_min, new_max)
        if new_min == self.min_val and new_max == self.max_val:
            self.histogram = self.histogram + update
            return
        self.histogram = update + self._rebinned(new_min, new_max)
        self.min_val, self.max_val = np.array(new_min), np.array(new_max)

    def _rebinned(self, new_min, new_max):
        """The old histogram spread over the new range (each bin split into 16 pieces)."""
        old_min, old_max = self.min_val, self.max_val
        if old_min == old_max:
            return histc(np.array([old_min]), self.bins, new_min, new_max) * self.histogram.sum()
        n = self.bins * self.upsample_rate
        hist = np.repeat(self.histogram, self.upsample_rate) / np.float32(self.upsample_rate)
        size = (old_max - old_min) / np.float32(n)
        mids = np.linspace(old_min, old_max, n + 1, dtype=np.float32)[:-1] + np.float32(0.5) * size
        edges = np.linspace(new_min, new_max, self.bins + 1, dtype=np.float32)
        buckets = np.clip(np.searchsorted(edges, mids, side="right") - 1, 0, self.bins - 1)
        return np.bincount(buckets, weights=hist, minlength=self.bins).astype(np.float32)

    def _error(self, start: int, end: int) -> float:
        """L2 error of quantising the histogram with the range of bins start..end."""
        bin_width = (float(self.max_val) - float(self.min_val)) / self.bins
        dst_width = bin_width * (end - start + 1) / self.dst_nbins
        if dst_width == 0.0:
            return 0.0
        f32 = np.float32
        src_begin = (np.arange(self.bins, dtype=f32) - f32(start)) * f32(bin_width)
        src_end = src_begin + f32(bin_width)
        dst_w = f32(dst_width)
        dst_of_begin = np.clip(np.floor(src_begin / dst_w), 0, self.dst_nbins - 1)
        dst_of_end = np.clip(np.floor(src_end / dst_w), 0, self.dst_nbins - 1)
        density = self.histogram / f32(bin_width)

        def norm(begin, end):
            return density * (end * end * end - begin * begin * begin) / f32(3)

        half = dst_w / f32(2)
        total = norm(src_begin - (dst_of_begin + f32(0.5)) * dst_w, np.full(self.bins, half))
        total += (dst_of_end - dst_of_begin - 1) * norm(-half, half)
        total += norm(-half, src_end - (dst_of_end * dst_w + half))
        return float(total.astype(f32).sum(dtype=f32))

    def _search(self):
        bin_width = (self.max_val - self.min_val) / np.float32(self.bins)
        total = float(self.histogram.sum())
        csum = np.cumsum(self.histogram, dtype=np.float32)
        alpha, beta, start, end, norm_min = 0.0, 1.0, 0, self.bins - 1, float("inf")
        while alpha < beta:
            next_alpha, next_beta = alpha + 1e-5, beta - 1e-5
            lo, hi = start, end
            while lo < end and csum[lo] < next_alpha * total:
                lo += 1
            while hi > start and csum[hi] > next_beta * total:
                hi -= 1
            next_start, next_end = start, end
            if lo - start > end - hi:
                next_start, alpha = lo, next_alpha
            else:
                next_end, beta = hi, next_beta
            if next_start == start and next_end == end:
                continue
            norm = self._error(next_start, next_end)
            if norm > norm_min:
                break
            norm_min, start, end = norm, next_start, next_end
        return (self.min_val + bin_width * np.float32(start),
                self.min_val + bin_width * np.float32(end + 1))

    def calculate_qparams(self):
        if not np.isfinite(self.min_val):
            return np.ones(1, np.float32), np.zeros(1, np.int64)
        return self._qparams(*self._search())


_observer.default_histogram_observer = HistogramObserver.with_args(reduce_range=True)
default_histogram_observer = _observer.default_histogram_observer
