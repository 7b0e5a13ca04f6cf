"""One training run from a configuration, as ``axonic train`` does it, with room for
extra callbacks (a pruner's reports, MLflow) and for data splits made elsewhere (a
cross-validation fold). Widths a config leaves out are inferred first.

>>> from axonic.cli.config import resolve
>>> cfg = resolve({"epochs": 2, "data": {"dataset": "iris", "transforms":
...                [{"type": "Standardize"}]}, "model": {"layers": [{"type": "Linear",
...                "out_features": 3}]}, "callbacks": {"progress": False, "plotter": False}})
>>> import tempfile
>>> run = train_config(cfg, tempfile.mkdtemp())
>>> sorted(run.history), run.config["model"]["layers"][0]["in_features"]
(['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss'], 4)
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from axonic.cli.config import ConfigError, read_toml


@dataclass
class Run:
    """What a run leaves behind: its directory, resolved config and per-epoch history."""

    run_dir: Path
    config: dict
    history: dict
    stop_reason: str | None
    test: dict | None = None
    num_params: int = 0
    extra: dict = field(default_factory=dict)

    def last(self, metric: str) -> float:
        """The value of ``metric`` at the last completed epoch."""
        if metric not in self.history or not self.history[metric]:
            raise ConfigError(f"the run logged no {metric!r}; it logs "
                              f"{', '.join(sorted(self.history)) or 'nothing'}")
        return float(self.history[metric][-1])


def split_tune_table(config) -> tuple[dict, dict]:
    """``(run config without [tune], the [tune] table)`` from a path or a dict."""
    raw = read_toml(config) if isinstance(config, str | Path) else copy.deepcopy(config)
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a table or a TOML file, got {type(raw).__name__}")
    tune = raw.pop("tune", {})
    if not isinstance(tune, dict):
        raise ConfigError(f"tune: expected a table, got {tune!r}")
    return raw, tune


def _rng_state():
    import axonic

    return axonic.get_rng_state(), np.random.get_state()


def _set_rng_state(state) -> None:
    import axonic

    axonic.set_rng_state(state[0])
    np.random.set_state(state[1])


def with_widths(cfg: dict, sample_x) -> dict:
    """``cfg`` with every omitted input width filled in (the RNG is left as it was)."""
    import axonic
    from axonic.tune.widths import infer_widths

    state = _rng_state()
    try:
        layers = infer_widths(cfg["model"]["layers"], axonic.tensor(sample_x))
    finally:
        _set_rng_state(state)
    out = copy.deepcopy(cfg)
    out["model"]["layers"] = layers
    return out


def setup(cfg: dict, splits=None):
    """Seeded ``(cfg with widths, splits, model, loss)``, in ``axonic train``'s order."""
    import axonic
    from axonic.cli.builders import build_loss, build_model, check_model
    from axonic.cli.data import build_splits

    axonic.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    splits = build_splits(cfg) if splits is None else splits
    x, y = splits.train
    cfg = with_widths(cfg, x[:2])
    model = build_model(cfg)
    loss = build_loss(cfg)
    check_model(model, axonic.tensor(x[:2]), axonic.tensor(y[:2]), loss)
    return cfg, splits, model, loss


def _test_report(cfg, trainer, test) -> dict:
    from axonic.cli.builders import is_classification
    from axonic.train.metrics import classification_report, regression_report

    output = trainer.predict(test[0]).numpy()
    if is_classification(cfg):
        threshold = 0.5 if cfg["loss"]["type"] == "BCELoss" else 0.0
        return classification_report(test[1], output, threshold=threshold)
    return regression_report(test[1], output)


def train_config(cfg: dict, run_dir, callbacks=(), splits=None, quiet: bool = True) -> Run:
    """Train ``cfg`` (resolved) into ``run_dir`` the way ``axonic train`` does; ``callbacks``
    are added to the config's own. Returns the ``Run``."""
    import axonic
    from axonic.cli.builders import (
        build_callbacks,
        build_metrics,
        build_optimizer,
        build_scheduler,
    )
    from axonic.train import Trainer

    start = time.perf_counter()
    cfg, splits, model, loss = setup(cfg, splits)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tr, batch = cfg["training"], cfg["data"]["batch_size"]
    optimizer = build_optimizer(cfg, model.parameters())
    scheduler, interval = build_scheduler(cfg, optimizer, -(-len(splits.train[0]) // batch))
    cbs = build_callbacks(cfg, run_dir, splits.val is not None) + list(callbacks)
    trainer = Trainer(model, optimizer, loss, metrics=build_metrics(cfg), callbacks=cbs,
                      device=tr["device"], grad_accum_steps=tr["grad_accum_steps"],
                      clip_grad_norm=tr["clip_grad_norm"], l2=tr["l2"], scheduler=scheduler,
                      scheduler_interval=interval, seed=cfg["seed"])
    trainer.config = cfg
    (run_dir / "config.json").write_text(json.dumps(cfg, indent=2))
    pre = {"input_shape": list(splits.input_shape), "input_dtype": splits.input_dtype,
           "classes": splits.classes, **splits.preprocess}
    (run_dir / "preprocess.json").write_text(json.dumps(pre))
    train = splits.train
    if splits.train_transform is not None:
        from axonic.data import TensorDataset

        train = TensorDataset(*splits.train, transform=splits.train_transform)
    quiet = quiet or not cfg["callbacks"]["progress"]
    history = trainer.fit(train, validation=splits.val, epochs=cfg["epochs"], batch_size=batch,
                          shuffle=cfg["data"]["shuffle"], verbose=0 if quiet else 1)
    axonic.save(model.state_dict(), run_dir / "model.safetensors")
    run = Run(run_dir, cfg, history.history, history.stop_reason,
              num_params=sum(p.numel() for p in model.parameters()))
    result = {"history": history.history, "stop_reason": history.stop_reason}
    if splits.test is not None:
        run.test = result["test"] = _test_report(cfg, trainer, splits.test)
    result["wall_time_s"] = time.perf_counter() - start
    (run_dir / "test_metrics.json").write_text(json.dumps(result, indent=1))
    run.extra["model"] = model
    run.extra["sample"] = splits.train[0][:1]
    return run


def close_all(callbacks) -> None:
    """Let callbacks that wait for the run's last files (MLflow's) finish."""
    for cb in callbacks:
        if hasattr(cb, "close"):
            cb.close()
