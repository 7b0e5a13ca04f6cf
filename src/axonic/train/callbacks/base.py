"""``Callback``: hooks called by the ``Trainer`` at the start and end of training, epochs
and batches, with Keras's names; ``CallbackList`` calls them in order."""

from __future__ import annotations


class Callback:
    """Subclass and override any hook; ``self.trainer`` is set before training starts.

    ``logs`` is a dict of the current values (``loss``, ``val_loss``, metrics, ``lr``).
    Set ``self.trainer.stop_training = True`` to stop after the current epoch, or raise
    ``StopTraining`` to stop at once. A callback with state that must survive a resume
    returns it from ``state_dict``; it is matched on resume by ``state_key`` and rank.

    >>> class Count(Callback):
    ...     def __init__(self):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs += 1
    >>> Count().state_dict()
    {}
    """

    trainer = None
    runs_last = False  # True: its hooks run after the others' (checkpoint writers)

    @property
    def state_key(self) -> str:
        """The key its state is saved under in checkpoints: the class's qualified name."""
        return type(self).__qualname__

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_batch_begin(self, batch, logs=None): ...

    def on_batch_end(self, batch, logs=None): ...

    def on_before_backward(self, batch, logs=None):
        """The batch's loss is known (``logs['batch_loss']``) and nothing is backpropagated
        yet; raise ``StopTraining`` to end training before this batch changes anything."""

    def on_interrupt(self, logs=None):
        """Training stops early (Ctrl-C, a non-finite loss): save what must be kept."""

    def state_dict(self) -> dict:
        """JSON-able state saved in checkpoints (e.g. EarlyStopping's best value)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""


class CallbackList:
    """Calls each hook on every callback: in the order given, those with ``runs_last``
    after the others."""

    def __init__(self, callbacks, trainer):
        self.callbacks = sorted(callbacks, key=lambda cb: cb.runs_last)
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def __iter__(self):
        return iter(self.callbacks)

    def call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def state_dict(self) -> list:
        return [{"type": cb.state_key, "state": cb.state_dict()} for cb in self.callbacks]

    def load_state_dict(self, states: list) -> None:
        """Give each callback the state saved under its ``state_key`` and rank."""
        by_type: dict[str, list] = {}
        for st in states:
            by_type.setdefault(st["type"], []).append(st["state"])
        seen: dict[str, int] = {}
        for cb in self.callbacks:
            name = cb.state_key
            k = seen.get(name, 0)
            seen[name] = k + 1
            if k < len(by_type.get(name, ())):
                cb.load_state_dict(by_type[name][k])
