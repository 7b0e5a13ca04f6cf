"""``[distill]`` in a run configuration: train the configured model against a finished run's
model (the teacher), with ``axonic.train.distill.Distill``.

    [distill]
    teacher = "runs/cnn_digits-20260101-120000"
    temperature = 4.0
    alpha = 0.9
"""

from __future__ import annotations

import numpy as np


def distill_callback(cfg: dict, splits, model):
    """The ``Distill`` callback of ``cfg['distill']`` (or None), after checking that the
    teacher run takes the student's inputs and predicts the same number of outputs."""
    d = cfg.get("distill")
    if d is None:
        return None
    import axonic
    from axonic.cli.config import ConfigError
    from axonic.cli.main import _load_run
    from axonic.train.distill import Distill

    try:
        _, pre, teacher = _load_run(d["teacher"])
    except ConfigError as e:
        raise ConfigError(f"distill.teacher: {e}") from None
    if list(pre["input_shape"]) != list(splits.input_shape):
        raise ConfigError(f"distill.teacher: {d['teacher']} takes inputs of shape "
                          f"{tuple(pre['input_shape'])}; this run's are "
                          f"{tuple(splits.input_shape)}")
    x = axonic.tensor(np.asarray(splits.train[0][:2]))
    was = model.training
    model.eval()
    with axonic.no_grad():
        shapes = tuple(teacher(x).shape), tuple(model(x).shape)
    model.train(was)
    if shapes[0] != shapes[1]:
        raise ConfigError(f"distill.teacher: {d['teacher']} gives outputs of shape {shapes[0]} "
                          f"for two samples; this run's model gives {shapes[1]}")
    return Distill(teacher, d["temperature"], d["alpha"])
