"""Training: ``Trainer`` (fit / evaluate / predict), callbacks, metrics, checkpoints.

>>> from axonic.train import Trainer, EarlyStopping, ModelCheckpoint
"""

from axonic.train import metrics
from axonic.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    Plotter,
    ProgressBar,
    TensorBoard,
    TerminateOnNaN,
)
from axonic.train.checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from axonic.train.diagnostics import Diagnostics, Monitor, TrainingReport, lr_find
from axonic.train.distill import Distill
from axonic.train.errors import NonFiniteLossError, NonFiniteLossWarning, StopTraining
from axonic.train.history import History
from axonic.train.regularization import L2Penalty
from axonic.train.run_dir import RunDir
from axonic.train.schedule import ScheduleStepper
from axonic.train.trainer import Trainer

__all__ = ["Trainer", "History", "Callback", "CSVLogger", "EarlyStopping",
           "LearningRateScheduler", "ModelCheckpoint", "Plotter", "ProgressBar", "TensorBoard",
           "TerminateOnNaN", "StopTraining", "L2Penalty", "ScheduleStepper", "RunDir",
           "CheckpointError", "read_checkpoint", "write_checkpoint", "NonFiniteLossError",
           "NonFiniteLossWarning", "metrics", "Diagnostics", "Monitor", "TrainingReport",
           "lr_find", "Distill"]


def __getattr__(name):
    # cross_validate lives with the search tools (axonic.tune) and loads on first use
    if name == "cross_validate":
        from axonic.tune.cv import cross_validate

        return cross_validate
    raise AttributeError(f"module 'axonic.train' has no attribute {name!r}")
