"""``History``: the per-epoch record of a ``fit``, shaped like Keras's."""

from __future__ import annotations

import math


class History:
    """Per-epoch losses and metrics: ``history.history["val_loss"][e]`` is epoch ``e``'s.

    ``fit`` returns one. It is plain data, so it goes into a checkpoint as JSON.

    >>> h = History()
    >>> h.append(0, {"loss": 0.9, "val_loss": 1.0})
    >>> h.append(1, {"loss": 0.5, "val_loss": 0.7})
    >>> h.history["loss"], h.epoch
    ([0.9, 0.5], [0, 1])
    >>> h.best("val_loss")
    (1, 0.7)
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None

    def append(self, epoch: int, logs: dict) -> None:
        """Record one epoch; keys that appear late are padded with NaN for earlier epochs."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        for values in self.history.values():
            if len(values) < n + 1:
                values.append(math.nan)

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """The epoch and value where ``key`` was lowest (``mode='min'``) or highest."""
        values = self.history[key]
        pick = min if mode == "min" else max
        i = pick(range(len(values)), key=lambda j: values[j])
        return self.epoch[i], values[i]

    def to_csv(self, path) -> None:
        """Write ``epoch,<key>,...`` with one row per epoch."""
        import csv

        keys = list(self.history)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["epoch", *keys])
            for i, e in enumerate(self.epoch):
                w.writerow([e, *(repr(self.history[k][i]) for k in keys)])

    def state_dict(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()},
                "epoch": list(self.epoch), "stop_reason": self.stop_reason}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]
        self.stop_reason = state.get("stop_reason")

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
