"""Pictures of attributions (matplotlib): heat-map overlays for images, bar charts for
tabular features, token heat maps for text. Each returns the matplotlib Figure."""

from __future__ import annotations

import numpy as np

from axonic.explain._common import as_array


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("axonic.explain pictures need matplotlib: "
                          "pip install 'axonic[explain]'") from None
    return plt


def _image(array, who):
    a = np.asarray(as_array(array), dtype=np.float64)
    if a.ndim == 3 and a.shape[0] in (1, 3):  # channels first, as models take images
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3):
        raise ValueError(f"{who}: expected one image (H, W), (C, H, W) or (H, W, C), "
                         f"got shape {a.shape}")
    return a


def image_heatmap(attribution, image=None, title=None, cmap="RdBu_r", alpha=0.5, path=None):
    """The attribution of one image as a heat map (summed over channels), over a grey copy
    of ``image`` when given; red pushes the target up, blue down.

    >>> import numpy as np
    >>> fig = image_heatmap(np.random.rand(1, 8, 8), np.random.rand(1, 8, 8))
    >>> len(fig.axes)
    2
    """
    plt = _pyplot()
    attr = _image(attribution, "image_heatmap")
    attr = attr.sum(axis=-1) if attr.ndim == 3 else attr
    fig, ax = plt.subplots(figsize=(3.2, 3))
    if image is not None:
        img = _image(image, "image_heatmap")
        grey = img.mean(axis=-1) if img.ndim == 3 else img
        ax.imshow(grey, cmap="gray")
    lim = max(float(np.abs(attr).max()), 1e-12)
    shown = ax.imshow(attr, cmap=cmap, vmin=-lim, vmax=lim, alpha=alpha if image is not None
                      else 1.0)
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _done(fig, path)


def feature_bars(attribution, feature_names=None, title=None, top=20, path=None):
    """A horizontal bar chart of one example's feature attributions, largest first.

    >>> fig = feature_bars([0.5, -0.2, 0.1], ["a", "b", "c"])
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['c', 'b', 'a']
    """
    plt = _pyplot()
    a = np.asarray(as_array(attribution), dtype=np.float64).reshape(-1)
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in
                                                                   range(a.size)]
    if len(names) != a.size:
        raise ValueError(f"feature_bars: got {len(names)} feature names for {a.size} "
                         "attributions")
    order = np.argsort(-np.abs(a))[:top][::-1]
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(order) + 1))
    ax.barh([names[i] for i in order], a[order],
            color=["tab:red" if a[i] > 0 else "tab:blue" for i in order])
    ax.axvline(0, color="black", lw=0.8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _done(fig, path)


def token_heatmap(tokens, scores, title=None, cmap="RdBu_r", path=None):
    """Tokens in a row, each coloured by its score (red positive, blue negative).

    >>> fig = token_heatmap(["a", "good", "film"], [0.0, 0.9, 0.1])
    >>> len(fig.axes[0].texts)
    3
    """
    plt = _pyplot()
    s = np.asarray(as_array(scores), dtype=np.float64).reshape(-1)
    if len(tokens) != s.size:
        raise ValueError(f"token_heatmap: got {len(tokens)} tokens for {s.size} scores")
    lim = max(float(np.abs(s).max()), 1e-12)
    colours = plt.get_cmap(cmap)((s / lim + 1) / 2)
    fig, ax = plt.subplots(figsize=(max(2, 0.8 * len(tokens)), 0.8))
    for i, (tok, c) in enumerate(zip(tokens, colours)):
        ax.text(i + 0.5, 0.5, str(tok), ha="center", va="center",
                bbox={"facecolor": c, "edgecolor": "none", "pad": 3})
    ax.set_xlim(0, len(tokens))
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _done(fig, path)


def attention_heatmap(weights, tokens=None, title=None, path=None):
    """One attention map (L, S) as an image, queries down, keys across."""
    plt = _pyplot()
    w = np.asarray(as_array(weights), dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"attention_heatmap: expected one (L, S) map, got shape {w.shape}")
    fig, ax = plt.subplots(figsize=(3.4, 3))
    shown = ax.imshow(w, cmap="viridis", vmin=0)
    fig.colorbar(shown, ax=ax, fraction=0.046)
    if tokens is not None:
        ax.set_xticks(range(len(tokens)), tokens, rotation=90)
        ax.set_yticks(range(len(tokens)), tokens)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    if title:
        ax.set_title(title)
    return _done(fig, path)


def _done(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig
