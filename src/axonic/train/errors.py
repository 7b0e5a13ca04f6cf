"""What ends training early: ``StopTraining`` (raised by a callback), and the error and
warning of a non-finite loss."""

from __future__ import annotations


class StopTraining(Exception):
    """Raise from a callback hook to end ``fit`` at once, e.g. in ``on_before_backward``
    before a bad batch is backpropagated.

    The message becomes ``history.stop_reason``; the gradients of the unfinished step are
    dropped, the callbacks get ``on_train_end`` and ``fit`` returns the history. A subclass
    with ``reraise = True`` (``NonFiniteLossError``) is raised again after ``on_train_end``.

    >>> str(StopTraining("enough"))
    'enough'
    """

    reraise = False


class NonFiniteLossError(StopTraining, FloatingPointError):
    """The loss became NaN or inf (``TerminateOnNaN(raise_error=True)``, or the Trainer's
    ``on_nan='raise'``)."""

    reraise = True


class NonFiniteLossWarning(RuntimeWarning):
    """The loss became NaN or inf and training stopped (``on_nan='stop'``)."""
