"""The ``axonic`` command: train, evaluate, predict and summarise from a TOML config.

    axonic train [CONFIG.toml] [--epochs N] [--out DIR] [--seed S] [--quiet]
    axonic evaluate RUN_DIR
    axonic predict RUN_DIR INPUT.npy|INPUT.csv [--output FILE]
    axonic summary CONFIG.toml
    axonic tune CONFIG.toml [--trials N] [--storage URL]   (axonic.cli.tune)
    axonic cv CONFIG.toml [--folds K]                       (axonic.cli.cv)

Without a config, ``axonic train`` trains a small CNN on scikit-learn's 8x8 handwritten
digits. The run directory it writes (the resolved config, the weights, what predict needs
to redo the inputs, the history, curves, test metrics and resumable checkpoints, see
``axonic.train.RunDir``) is what ``evaluate``, ``predict`` and ``train --resume`` read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonic", description="Train and use axonic models "
                                "described by a TOML configuration.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model (default: a CNN on the bundled digits)")
    t.add_argument("config", nargs="?", help="a TOML configuration (see docs/TRAINING.md)")
    t.add_argument("--epochs", type=int, help="override the number of epochs")
    t.add_argument("--out", help="the run directory (default: runs/<name>-<time>)")
    t.add_argument("--seed", type=int, help="override the seed")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from "
                   "its last checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    e = sub.add_parser("evaluate", help="evaluate a trained run on its test split")
    e.add_argument("run_dir")
    e.add_argument("--split", choices=("test", "val", "train"), default="test")
    pr = sub.add_parser("predict", help="predict with a trained run")
    pr.add_argument("run_dir")
    pr.add_argument("input", help="inputs as .npy or .csv (one sample per row)")
    pr.add_argument("--output", help="write predictions to this .npy or .csv file")
    s = sub.add_parser("summary", help="validate a config and show the model's layers")
    s.add_argument("config")
    from axonic.cli import cv, tune

    tune.add_parser(sub)
    cv.add_parser(sub)
    return p


def main(argv=None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); returns the exit code."""
    from axonic.cli.config import ConfigError
    from axonic.train.checkpoint import CheckpointError

    args = _parser().parse_args(argv)
    try:
        from axonic.cli.cv import cmd_cv
        from axonic.cli.tune import cmd_tune

        return {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
                "summary": cmd_summary, "tune": cmd_tune, "cv": cmd_cv}[args.command](args)
    except (ConfigError, CheckpointError, FileNotFoundError) as e:
        print(f"axonic {args.command}: error: {e}", file=sys.stderr)
        return 2


# --- shared steps ---------------------------------------------------------------------------
def _config(path):
    from axonic.cli.config import DEFAULT, load_config, resolve

    return resolve(DEFAULT) if path is None else load_config(path)


def _setup(cfg):
    """Seeded data splits, model, loss (checked with a dry forward) for ``cfg``."""
    import axonic
    from axonic.cli.builders import build_loss, build_model, check_model
    from axonic.cli.data import build_splits

    axonic.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    splits = build_splits(cfg)
    model = build_model(cfg)
    loss = build_loss(cfg)
    x, y = splits.train
    out_shape = check_model(model, axonic.tensor(x[:2]), axonic.tensor(y[:2]), loss)
    return splits, model, loss, out_shape


def _load_run(path):
    import axonic
    from axonic.cli.builders import build_model
    from axonic.cli.config import ConfigError, resolve
    from axonic.train import RunDir

    run = RunDir(path)
    for name in run.missing():
        raise ConfigError(f"{run.path} is not a run directory: {name} is missing")
    cfg = resolve(json.loads(run.config.read_text()))
    pre = json.loads(run.preprocess.read_text())
    model = build_model(cfg)
    try:
        model.load_state_dict(axonic.load(run.model))
    except (ValueError, RuntimeError) as e:
        raise ConfigError(f"{run.model}: {e}") from None
    model.eval()
    return cfg, pre, model


def _report(cfg, target, output, out=None) -> dict:
    from axonic.cli.builders import is_classification
    from axonic.train import RunDir
    from axonic.train.metrics import (
        classification_report,
        format_confusion_matrix,
        regression_report,
    )

    out = out if out is not None else sys.stdout
    if is_classification(cfg):
        threshold = 0.5 if cfg["loss"]["type"] == "BCELoss" else 0.0
        r = classification_report(target, output, threshold=threshold)
        print(f"test accuracy: {r['accuracy']:.4f}   macro F1: {r['f1_macro']:.4f}"
              + (f"   ROC-AUC: {r['roc_auc']:.4f}" if "roc_auc" in r else ""), file=out)
        if len(r["confusion_matrix"]) <= 12:
            print(format_confusion_matrix(r["confusion_matrix"]), file=out)
        else:
            print(f"(the confusion matrix is in {RunDir.TEST_METRICS})", file=out)
    else:
        r = regression_report(target, output)
        print("test " + "   ".join(f"{k.upper()}: {v:.4g}" for k, v in r.items()), file=out)
    return r




# --- commands -------------------------------------------------------------------------------
def cmd_train(args) -> int:
    import axonic
    from axonic.cli.builders import (
        build_callbacks,
        build_metrics,
        build_optimizer,
        build_scheduler,
    )
    from axonic.cli.config import ConfigError
    from axonic.train import RunDir, Trainer

    start = time.perf_counter()
    if args.resume:
        resume = RunDir(args.resume)
        if not resume.config.is_file():
            raise ConfigError(f"--resume: {resume.path} has no {RunDir.CONFIG} (not a run "
                              "directory)")
        from axonic.cli.config import resolve

        cfg = resolve(json.loads(resume.config.read_text()))
        args.out = str(resume.path)
    else:
        cfg = _config(args.config)
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    if args.seed is not None:
        cfg["seed"] = args.seed
    splits, model, loss, _ = _setup(cfg)
    run = (RunDir(args.out) if args.out else RunDir.new(cfg["name"])).create()
    tr = cfg["training"]
    optimizer = build_optimizer(cfg, model.parameters())
    batch = cfg["data"]["batch_size"]
    steps = -(-len(splits.train[0]) // batch)
    scheduler, interval = build_scheduler(cfg, optimizer, steps)
    callbacks = build_callbacks(cfg, run, splits.val is not None)
    trainer = Trainer(model, optimizer, loss, metrics=build_metrics(cfg), callbacks=callbacks,
                      device=tr["device"], grad_accum_steps=tr["grad_accum_steps"],
                      clip_grad_norm=tr["clip_grad_norm"], l2=tr["l2"], scheduler=scheduler,
                      scheduler_interval=interval, seed=cfg["seed"], config=cfg)
    run.config.write_text(json.dumps(cfg, indent=2))
    pre = {"input_shape": list(splits.input_shape), "input_dtype": splits.input_dtype,
           "classes": splits.classes, **splits.preprocess}
    run.preprocess.write_text(json.dumps(pre))
    quiet = args.quiet or not cfg["callbacks"]["progress"]
    if not quiet:
        print(f"axonic train: {cfg['name']}: {len(splits.train[0])} training samples, "
              f"{sum(p.numel() for p in model.parameters())} parameters -> {run.path}")
    train = _dataset(splits.train, splits.train_transform)
    resume_from = None
    if args.resume and run.last_checkpoint.exists():
        resume_from = run.checkpoints
    history = trainer.fit(train, validation=splits.val, epochs=cfg["epochs"], batch_size=batch,
                          shuffle=cfg["data"]["shuffle"], verbose=0 if quiet else 1,
                          resume_from=resume_from)
    axonic.save(model.state_dict(), run.model)
    if history.stop_reason:
        print(f"axonic train: stopped early: {history.stop_reason}", file=sys.stderr)
    result = {"history": history.history, "stop_reason": history.stop_reason}
    if splits.test is not None:
        output = trainer.predict(splits.test[0]).numpy()
        result["test"] = _report(cfg, splits.test[1], output)
    result["wall_time_s"] = time.perf_counter() - start
    run.test_metrics.write_text(json.dumps(result, indent=1))
    print(f"run directory: {run.path}  ({result['wall_time_s']:.1f}s)")
    return 0 if history.stop_reason is None or history.stop_reason.startswith("interrupted") \
        else 1


def _dataset(arrays, transform=None):
    from axonic.data import TensorDataset

    return TensorDataset(*arrays, transform=transform) if transform else arrays


def cmd_evaluate(args) -> int:
    from axonic.cli.config import ConfigError
    from axonic.cli.data import build_splits
    from axonic.train import Trainer

    cfg, pre, model = _load_run(args.run_dir)
    splits = build_splits(cfg)
    part = {"test": splits.test, "val": splits.val, "train": splits.train}[args.split]
    if part is None:
        raise ConfigError(f"the config's data.splits gives no {args.split} split")
    from axonic.cli.builders import build_loss, build_metrics

    trainer = Trainer(model, loss=build_loss(cfg), metrics=build_metrics(cfg))
    print(f"{args.split} loss: {trainer.evaluate(part)['loss']:.4f}")
    _report(cfg, part[1], trainer.predict(part[0]).numpy())
    return 0


def cmd_predict(args) -> int:
    import axonic
    from axonic.cli.builders import is_classification
    from axonic.cli.config import ConfigError
    from axonic.cli.data import read_table, standardize

    cfg, pre, model = _load_run(args.run_dir)
    X = read_table(args.input)
    shape = tuple(pre["input_shape"])
    per_sample = int(np.prod(shape)) if shape else 1
    if X.size % per_sample or (X.ndim > 1 and int(np.prod(X.shape[1:])) != per_sample):
        raise ConfigError(f"predict: {args.input} has shape {X.shape}; the model takes "
                          f"samples of shape {shape} ({per_sample} values per row)")
    X = X.reshape((-1, *shape)).astype(pre["input_dtype"])
    X = standardize(X, pre)
    with axonic.no_grad():
        out = np.concatenate([model(axonic.tensor(X[i:i + 256])).numpy()
                              for i in range(0, len(X), 256)])
    if is_classification(cfg):
        if out.ndim == 2 and out.shape[1] > 1:
            pred = out.argmax(1)
        else:
            pred = (out.reshape(-1) > (0.5 if cfg["loss"]["type"] == "BCELoss" else 0.0))
            pred = pred.astype(np.int64)
        classes = pre.get("classes")
        lines = [str(classes[p]) if classes else str(p) for p in pred]
        result = pred
    else:
        result = out
        lines = [" ".join(f"{v:.6g}" for v in np.atleast_1d(row)) for row in out]
    if args.output:
        path = Path(args.output)
        if path.suffix == ".npy":
            np.save(path, result)
        else:
            np.savetxt(path, np.asarray(result).reshape(len(result), -1), delimiter=",",
                       fmt="%d" if result.dtype.kind == "i" else "%.8g")
        print(f"wrote {len(result)} predictions to {path}")
    else:
        print("\n".join(lines))
    return 0


def cmd_summary(args) -> int:
    from axonic.cli.builders import build_metrics, build_optimizer, build_scheduler

    cfg = _config(args.config)
    splits, model, loss, out_shape = _setup(cfg)
    optimizer = build_optimizer(cfg, model.parameters())
    build_scheduler(cfg, optimizer, 1)
    build_metrics(cfg)
    import axonic

    print(f"{cfg['name']}: {cfg['data']['dataset']} -> train {len(splits.train[0])}, "
          f"validation {0 if splits.val is None else len(splits.val[0])}, "
          f"test {0 if splits.test is None else len(splits.test[0])} samples; "
          f"input {splits.input_shape}, output {out_shape[1:]}")
    print(model.summary(axonic.tensor(splits.train[0][:2])))
    print(f"loss: {cfg['loss']['type']}   optimizer: {cfg['optimizer']['type']}   "
          f"epochs: {cfg['epochs']}   batch size: {cfg['data']['batch_size']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
