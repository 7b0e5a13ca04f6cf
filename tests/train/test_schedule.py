"""ScheduleStepper: per optimizer step or per epoch; ReduceLROnPlateau gets a monitored
value; the Trainer and LearningRateScheduler step through it."""

import pytest

import axonic
from axonic import nn, optim
from axonic.train import LearningRateScheduler, ScheduleStepper, Trainer
from tests.train import tiny


def sgd(lr=1.0):
    return optim.SGD([nn.Parameter(axonic.zeros(1))], lr=lr)


def lr_of(opt):
    return opt.param_groups[0]["lr"]


def test_schedule_stepper_per_batch_steps_after_each_optimizer_step_only():
    opt = sgd()
    stepper = ScheduleStepper(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), "batch")
    for _ in range(3):
        stepper.after_optimizer_step({"loss": 1.0})
    stepper.after_epoch({"loss": 1.0})
    assert lr_of(opt) == 0.5 ** 3


def test_schedule_stepper_per_epoch_steps_after_each_epoch_only():
    opt = sgd()
    stepper = ScheduleStepper(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), "epoch")
    stepper.after_optimizer_step({"loss": 1.0})
    stepper.after_epoch({"loss": 1.0})
    stepper.after_epoch({"loss": 1.0})
    assert lr_of(opt) == 0.25


def test_reduce_lr_on_plateau_gets_the_monitored_value_or_the_loss():
    opt = sgd()
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    stepper = ScheduleStepper(plateau)
    stepper.after_epoch({"loss": 5.0, "val_loss": 1.0})
    assert plateau.best == 1.0
    stepper.after_epoch({"loss": 0.5})  # no validation: the loss, an improvement
    assert plateau.best == 0.5 and lr_of(opt) == 1.0
    stepper.after_epoch({"loss": 0.7})
    assert lr_of(opt) == 0.5
    with pytest.raises(ValueError, match="ReduceLROnPlateau: needs 'val_loss' or 'loss' in "
                                         "the logs; available: accuracy"):
        stepper.after_epoch({"accuracy": 0.9})


def test_no_scheduler_steps_nothing_and_saves_nothing():
    stepper = ScheduleStepper(None, "batch")
    stepper.after_optimizer_step({"loss": 1.0})
    stepper.after_epoch({})
    assert stepper.state_dict() is None
    stepper.load_state_dict({"last_epoch": 3})  # nothing to restore into
    with pytest.raises(ValueError, match="ScheduleStepper: interval must be 'epoch' or "
                                         "'batch', got 'step'"):
        ScheduleStepper(None, "step")


def test_schedule_stepper_state_round_trips():
    opt = sgd()
    a = ScheduleStepper(optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1))
    for _ in range(3):
        a.after_epoch({})
    b = ScheduleStepper(optim.lr_scheduler.StepLR(sgd(), step_size=2, gamma=0.1))
    b.load_state_dict(a.state_dict())
    assert b.scheduler.last_epoch == 3


def test_trainer_steps_a_batch_schedule_per_optimizer_step_not_per_batch():
    m = tiny.model()
    opt = optim.SGD(m.parameters(), lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    t = Trainer(m, opt, nn.CrossEntropyLoss(), scheduler=sched, scheduler_interval="batch",
                grad_accum_steps=3)
    h = t.fit(tiny.data(), epochs=2, batch_size=8, verbose=0)  # 6 batches, 2 steps an epoch
    assert h.history["lr"] == [0.25, 0.0625] and t.global_step == 4
    assert t.scheduler is sched and t.scheduler_interval == "batch"


def test_learning_rate_scheduler_steps_plateau_with_its_monitor():
    m = tiny.model()
    opt = optim.SGD(m.parameters(), lr=1.0)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0)
    cb = LearningRateScheduler(plateau, monitor="val_accuracy")
    Trainer(m, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], callbacks=[cb]).fit(
        tiny.data(), validation=tiny.data(16, seed=1), epochs=2, batch_size=8, verbose=0)
    assert plateau.mode == "max" and 0.0 <= plateau.best <= 1.0
