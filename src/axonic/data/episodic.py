"""Episodes for few-shot learning: ``EpisodicSampler`` draws ``n_way`` classes, then
``k_shot`` support and ``n_query`` query samples of each, as one batch of indices.

A batch is laid out class-major, support first: ``n_way * k_shot`` support rows
(class 0's shots, then class 1's ...), then ``n_way * n_query`` query rows in the same
class order; ``episode_labels`` gives the matching labels 0 .. n_way-1.

>>> import numpy as np
>>> sampler = EpisodicSampler(np.repeat(np.arange(4), 5), n_way=2, k_shot=1, n_query=2,
...                           episodes=3, seed=0)
>>> [len(batch) for batch in sampler]
[6, 6, 6]
>>> episode_labels(2, 1, 2)
(array([0, 1]), array([0, 0, 1, 1]))
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor


def episode_labels(n_way: int, k_shot: int, n_query: int):
    """The episode-relative labels of the support and the query rows of a batch."""
    return np.repeat(np.arange(n_way), k_shot), np.repeat(np.arange(n_way), n_query)


class EpisodicSampler:
    """A batch sampler (give it to ``DataLoader(dataset, batch_sampler=...)``) of
    ``episodes`` N-way K-shot episodes from ``labels``, restricted to ``classes`` if
    given (e.g. train on digits 0-4, test on the unseen 5-9)."""

    def __init__(self, labels, n_way: int, k_shot: int, n_query: int, episodes: int = 100,
                 classes=None, seed=None):
        labels = labels.numpy() if isinstance(labels, Tensor) else np.asarray(labels)
        for name, v in (("n_way", n_way), ("k_shot", k_shot), ("n_query", n_query),
                        ("episodes", episodes)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v <= 0:
                raise ValueError(f"EpisodicSampler: {name} must be a positive integer, "
                                 f"got {v!r}")
        classes = np.unique(labels) if classes is None else np.asarray(list(classes))
        if n_way > len(classes):
            raise ValueError(f"EpisodicSampler: n_way={n_way} but only {len(classes)} "
                             f"classes are available ({classes.tolist()})")
        self.pools = {}
        for c in classes.tolist():
            members = np.flatnonzero(labels == c)
            if len(members) < k_shot + n_query:
                raise ValueError(f"EpisodicSampler: class {c} has {len(members)} samples, "
                                 f"an episode needs k_shot + n_query = {k_shot + n_query}")
            self.pools[c] = members
        self.classes, self.n_way, self.k_shot, self.n_query = classes, n_way, k_shot, n_query
        self.episodes = episodes
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return self.episodes

    def __iter__(self):
        k = self.k_shot
        for _ in range(self.episodes):
            chosen = self.rng.choice(self.classes, self.n_way, replace=False)
            picks = [self.rng.choice(self.pools[c], k + self.n_query, replace=False)
                     for c in chosen.tolist()]
            yield [int(i) for p in picks for i in p[:k]] + \
                  [int(i) for p in picks for i in p[k:]]
