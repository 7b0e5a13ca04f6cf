"""Training callbacks with Keras's hook names; one callback per file."""

from axonic.train.callbacks.base import Callback, CallbackList
from axonic.train.callbacks.csv_logger import CSVLogger
from axonic.train.callbacks.early_stopping import EarlyStopping
from axonic.train.callbacks.lr_scheduler import LearningRateScheduler
from axonic.train.callbacks.model_checkpoint import ModelCheckpoint
from axonic.train.callbacks.plotter import Plotter
from axonic.train.callbacks.progress import ProgressBar
from axonic.train.callbacks.tensorboard import TensorBoard
from axonic.train.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "CSVLogger", "EarlyStopping", "LearningRateScheduler",
           "ModelCheckpoint", "Plotter", "ProgressBar", "TensorBoard", "TerminateOnNaN"]
