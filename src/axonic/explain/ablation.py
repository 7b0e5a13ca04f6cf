"""``FeatureAblation`` and ``Occlusion`` (Zeiler and Fergus 2014): how much the target
output drops when a feature, or a sliding patch, is replaced by its baseline."""

from __future__ import annotations

import itertools
import math

import numpy as np

from axonic.explain._common import (
    as_array,
    as_tuple,
    format_baselines,
    format_target,
    fresh,
    like_inputs,
    target_outputs,
)


def _ablate(forward_func, arrays, bases, masks, targets, who, extra, per_eval):
    """For each group of 0/1 masks (one per input, per perturbation), the drop of the
    target output when the masked entries take the baseline: shape (perturbations, n)."""
    n = arrays[0].shape[0]
    base_out = target_outputs(forward_func, tuple(fresh(a) for a in arrays), targets, who,
                              extra)
    drops = []
    for start in range(0, len(masks), per_eval):
        group = masks[start:start + per_eval]
        batch = []
        for i, (a, b) in enumerate(zip(arrays, bases)):
            rows = [a if m[i] is None else a * (1 - m[i]) + b * m[i] for m in group]
            batch.append(fresh(np.concatenate(rows).astype(a.dtype)))
        t = None if targets is None else np.tile(targets, (len(group), 1))
        out = target_outputs(forward_func, tuple(batch), t, who, extra)
        drops.extend(base_out - out.reshape(len(group), n))
    return drops


class FeatureAblation:
    """Replace each feature (each scalar, or each group of ``feature_mask``) by its baseline
    and attribute to it the drop of the target output.

    >>> import axonic
    >>> from axonic import nn
    >>> FeatureAblation(nn.Linear(3, 2)).attribute(axonic.randn(2, 3), target=1).shape
    (2, 3)
    """

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None,
                  feature_mask=None, perturbations_per_eval=1, show_progress=False):
        who = "FeatureAblation"
        items = as_tuple(inputs, who)
        arrays = [as_array(x) for x in items]
        bases = format_baselines(baselines, items, who)
        targets = format_target(target, arrays[0].shape[0], who)
        groups = self._groups(arrays, feature_mask, who)
        masks = [tuple(m if j == i else None for j in range(len(arrays)))
                 for i, m in groups]
        drops = _ablate(self.forward_func, arrays, bases, masks, targets, who,
                        additional_forward_args, perturbations_per_eval)
        total = [np.zeros_like(a) for a in arrays]
        for (i, m), d in zip(groups, drops):
            total[i] = total[i] + d.reshape((-1,) + (1,) * (arrays[i].ndim - 1)) * m
        return like_inputs([fresh(t.astype(a.dtype)) for t, a in zip(total, arrays)],
                           isinstance(inputs, tuple))

    @staticmethod
    def _groups(arrays, feature_mask, who):
        """(input index, 0/1 mask of shape (1, ...) or (n, ...)) for each feature."""
        if feature_mask is None:
            out = []
            for i, a in enumerate(arrays):
                for pos in np.ndindex(*a.shape[1:]):
                    m = np.zeros((1,) + a.shape[1:], dtype=a.dtype)
                    m[(0,) + pos] = 1
                    out.append((i, m))
            return out
        fm = feature_mask if isinstance(feature_mask, tuple) else (feature_mask,)
        if len(fm) != len(arrays):
            raise ValueError(f"{who}: got {len(fm)} feature masks for {len(arrays)} inputs")
        out = []
        for i, (a, f) in enumerate(zip(arrays, fm)):
            f = as_array(f)
            for ident in np.unique(f):
                out.append((i, np.broadcast_to(f == ident, np.broadcast_shapes(
                    f.shape, (1,) + a.shape[1:])).astype(a.dtype)))
        return out


class Occlusion:
    """Slide a patch of shape ``sliding_window_shapes`` with ``strides`` over each input,
    replace it by the baseline and spread the target output's drop over the patch; each
    position's attribution is the mean drop over the patches that covered it.

    >>> import axonic
    >>> from axonic import nn
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    >>> Occlusion(model).attribute(axonic.randn(2, 1, 4, 4), (1, 2, 2), target=0).shape
    (2, 1, 4, 4)
    """

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, sliding_window_shapes, strides=None, baselines=None,
                  target=None, additional_forward_args=None, perturbations_per_eval=1,
                  show_progress=False):
        who = "Occlusion"
        was_tuple = isinstance(inputs, tuple)
        items = as_tuple(inputs, who)
        arrays = [as_array(x) for x in items]
        windows = sliding_window_shapes if was_tuple else (sliding_window_shapes,)
        strides = strides if was_tuple and strides is not None else (strides,) * len(arrays)
        bases = format_baselines(baselines, items, who)
        targets = format_target(target, arrays[0].shape[0], who)
        masks, owners = [], []
        for i, (a, w, s) in enumerate(zip(arrays, windows, strides)):
            for m in self._windows(a.shape[1:], tuple(w), s, a.dtype):
                masks.append(tuple(m if j == i else None for j in range(len(arrays))))
                owners.append((i, m))
        drops = _ablate(self.forward_func, arrays, bases, masks, targets, who,
                        additional_forward_args, perturbations_per_eval)
        total = [np.zeros_like(a) for a in arrays]
        counts = [np.zeros((1,) + a.shape[1:], dtype=a.dtype) for a in arrays]
        for (i, m), d in zip(owners, drops):
            total[i] = total[i] + d.reshape((-1,) + (1,) * (arrays[i].ndim - 1)) * m
            counts[i] = counts[i] + m
        return like_inputs([fresh((t / c).astype(a.dtype))
                            for t, c, a in zip(total, counts, arrays)], was_tuple)

    @staticmethod
    def _windows(shape, window, stride, dtype):
        if len(window) != len(shape):
            raise ValueError(f"Occlusion: sliding_window_shapes {window} must have one entry "
                             f"per non-batch input dimension {shape}")
        stride = (1,) * len(shape) if stride is None else stride
        stride = (stride,) * len(shape) if isinstance(stride, int) else tuple(stride)
        for d, w, s in zip(shape, window, stride):
            if w > d:
                raise ValueError(f"Occlusion: sliding window {window} exceeds the input "
                                 f"dimensions {shape}")
            if s > w and d != w:
                raise ValueError(f"Occlusion: stride {stride} cannot exceed the sliding "
                                 f"window {window}")
        counts = [math.ceil((d - w) / s) + 1 for d, w, s in zip(shape, window, stride)]
        for idx in itertools.product(*(range(c) for c in counts)):
            m = np.zeros((1,) + tuple(shape), dtype=dtype)
            m[(0,) + tuple(slice(k * s, k * s + w) for k, s, w in zip(idx, stride, window))] = 1
            yield m
