"""``KernelShap`` and ``Lime``: adapters that hand the model to the ``shap`` and ``lime``
packages as a predict function over feature coalitions (present / replaced by baseline)."""

from __future__ import annotations

import numpy as np

from axonic.explain._common import (
    as_array,
    as_tuple,
    format_target,
    fresh,
    target_outputs,
)


def _require(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise ImportError(f"axonic.explain needs the '{name}' package for this: "
                          "pip install 'axonic[explain]'") from None


def _feature_masks(x: np.ndarray, feature_mask, who: str) -> np.ndarray:
    """One boolean mask over an example's positions per feature: shape (G, D)."""
    d = int(np.prod(x.shape[1:]))
    if feature_mask is None:
        return np.eye(d, dtype=bool)
    fm = as_array(feature_mask)
    try:
        fm = np.broadcast_to(fm, (1,) + x.shape[1:]).reshape(d)
    except ValueError:
        raise ValueError(f"{who}: feature_mask of shape {fm.shape} must broadcast to one "
                         f"example's shape {(1,) + x.shape[1:]}") from None
    return np.stack([fm == ident for ident in np.unique(fm)])


class _Coalitions:
    """``f(Z)``: the mean target output over the background when, for each row of 0/1
    feature indicators ``Z``, absent features take the background's values."""

    def __init__(self, forward_func, x_row, background, masks, target_row, who, extra, batch):
        self.forward_func, self.who, self.extra, self.batch = forward_func, who, extra, batch
        self.x = x_row.reshape(1, -1)
        self.bg = background.reshape(background.shape[0], -1)
        self.masks = masks.astype(x_row.dtype)
        self.shape, self.target = x_row.shape[1:], target_row

    def __call__(self, z: np.ndarray) -> np.ndarray:
        present = np.asarray(z, dtype=self.x.dtype) @ self.masks  # (k, D)
        m = self.bg.shape[0]
        rows = (self.x * present)[:, None] + self.bg[None] * (1 - present)[:, None]
        rows = rows.reshape((-1,) + self.shape)
        outs = []
        for s in range(0, rows.shape[0], self.batch):
            part = rows[s:s + self.batch]
            t = None if self.target is None else np.repeat(self.target, part.shape[0], axis=0)
            outs.append(target_outputs(self.forward_func, (fresh(part),), t, self.who,
                                       self.extra))
        return np.concatenate(outs).reshape(-1, m).mean(axis=1)


class _SurrogateAttribution:
    who = ""

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def _per_example(self, inputs, baselines, target, feature_mask, extra, batch, explain):
        x = as_array(as_tuple(inputs, self.who)[0])
        if isinstance(inputs, tuple) and len(inputs) != 1:
            raise ValueError(f"{self.who}: takes a single input tensor, got {len(inputs)}")
        targets = format_target(target, x.shape[0], self.who)
        b = np.zeros((), x.dtype) if baselines is None else as_array(baselines).astype(x.dtype)
        masks = _feature_masks(x, feature_mask, self.who)
        out = np.zeros_like(x)
        for i in range(x.shape[0]):
            bg = b if b.ndim < x.ndim else (b[i:i + 1] if b.shape[0] == x.shape[0] else b)
            bg = np.broadcast_to(bg, ((bg.shape[0] if bg.ndim == x.ndim else 1),)
                                 + x.shape[1:])
            f = _Coalitions(self.forward_func, x[i:i + 1], np.asarray(bg), masks,
                            None if targets is None else targets[i:i + 1], self.who, extra,
                            batch)
            values = explain(f, masks.shape[0])
            out[i] = (values @ masks.astype(x.dtype)).reshape(x.shape[1:])
        return fresh(out)


class KernelShap(_SurrogateAttribution):
    """Kernel SHAP values from ``shap.KernelExplainer``: features are present or replaced
    by ``baselines`` (default zero; a batch of ``M != N`` rows is a background set, averaged
    over). Each example's attributions sum to ``f(x) - E[f(baseline)]``.

    >>> import axonic
    >>> from axonic import nn
    >>> attr = KernelShap(nn.Linear(4, 2)).attribute(axonic.randn(2, 4), target=1, n_samples=64)
    >>> attr.shape
    (2, 4)
    """

    who = "KernelShap"

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None,
                  feature_mask=None, n_samples=25, perturbations_per_eval=256,
                  return_input_shape=True, show_progress=False):
        shap = _require("shap")

        def explain(f, g):
            explainer = shap.KernelExplainer(f, np.zeros((1, g)))
            return np.asarray(explainer.shap_values(np.ones((1, g)), nsamples=n_samples,
                                                    silent=not show_progress)).reshape(g)

        return self._per_example(inputs, baselines, target, feature_mask,
                                 additional_forward_args, perturbations_per_eval, explain)


class Lime(_SurrogateAttribution):
    """LIME weights from ``lime.lime_base.LimeBase``: ``n_samples`` random coalitions of
    the features (of ``feature_mask``: superpixels, column groups), the model's target output
    on each, a locally weighted ridge fit (cosine distance, kernel width 0.25, as
    ``lime_image``). Features absent from a coalition take ``baselines``.

    >>> import axonic
    >>> from axonic import nn
    >>> Lime(nn.Linear(4, 2)).attribute(axonic.randn(2, 4), target=0, n_samples=40).shape
    (2, 4)
    """

    who = "Lime"

    def attribute(self, inputs, target=None, additional_forward_args=None, n_samples=50,
                  perturbations_per_eval=256, baselines=None, feature_mask=None,
                  kernel_width=0.25, random_state=0, show_progress=False):
        _require("lime")
        from lime.lime_base import LimeBase
        from sklearn.metrics import pairwise_distances

        rng = np.random.default_rng(random_state)

        def kernel(d):
            return np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))

        def explain(f, g):
            z = rng.integers(0, 2, size=(n_samples, g))
            z[0] = 1  # the instance itself, as lime does
            distances = pairwise_distances(z, z[:1], metric="cosine").ravel()
            base = LimeBase(kernel, random_state=random_state)
            _, weights, _, _ = base.explain_instance_with_data(
                z, f(z)[:, None], distances, 0, g, feature_selection="none")
            values = np.zeros(g)
            for k, w in weights:
                values[k] = w
            return values

        return self._per_example(inputs, baselines, target, feature_mask,
                                 additional_forward_args, perturbations_per_eval, explain)
