"""``Callback``: hooks called by the ``Trainer`` at the start and end of training, epochs
and batches, with Keras's names; ``CallbackList`` calls them in order."""

from __future__ import annotations


class Callback:
    """Subclass and override any hook; ``self.trainer`` is set before training starts.

    ``logs`` is a dict of the current values (``loss``, ``val_loss``, metrics, ``lr``).
    Set ``self.trainer.stop_training = True`` to stop after the current epoch.
    A callback with state that must survive a resume returns it from ``state_dict``.

    >>> class Count(Callback):
    ...     def __init__(self):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs += 1
    >>> Count().state_dict()
    {}
    """

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_batch_begin(self, batch, logs=None): ...

    def on_batch_end(self, batch, logs=None): ...

    def on_interrupt(self, logs=None):
        """Training stops early (Ctrl-C, a non-finite loss): save what must be kept."""

    def state_dict(self) -> dict:
        """JSON-able state saved in checkpoints (e.g. EarlyStopping's best value)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""


class CallbackList:
    """Calls each hook on every callback, in the order given."""

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def __iter__(self):
        return iter(self.callbacks)

    def call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def state_dict(self) -> list:
        return [{"type": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks]

    def load_state_dict(self, states: list) -> None:
        """Give each callback the state saved by the callback of its type and rank."""
        by_type: dict[str, list] = {}
        for st in states:
            by_type.setdefault(st["type"], []).append(st["state"])
        seen: dict[str, int] = {}
        for cb in self.callbacks:
            name = type(cb).__name__
            k = seen.get(name, 0)
            seen[name] = k + 1
            if k < len(by_type.get(name, ())):
                cb.load_state_dict(by_type[name][k])
