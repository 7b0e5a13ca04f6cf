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
)
from axonic.train.checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from axonic.train.history import History
from axonic.train.trainer import NonFiniteLossError, NonFiniteLossWarning, Trainer

__all__ = ["Trainer", "History", "Callback", "CSVLogger", "EarlyStopping",
           "LearningRateScheduler", "ModelCheckpoint", "Plotter", "ProgressBar", "TensorBoard",
           "CheckpointError", "read_checkpoint", "write_checkpoint", "NonFiniteLossError",
           "NonFiniteLossWarning", "metrics"]
