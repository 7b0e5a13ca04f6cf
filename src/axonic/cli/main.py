"""The ``axonic`` command: train, evaluate, predict and summarise from a TOML config.

    axonic train [CONFIG.toml] [--epochs N] [--out DIR] [--seed S] [--quiet]
    axonic evaluate RUN_DIR [--split test|val|train]
    axonic predict RUN_DIR INPUT.npy|INPUT.csv [--output FILE] [--proba]
    axonic summary CONFIG.toml
    axonic tune CONFIG.toml [--trials N] [--storage URL]   (axonic.cli.tune)
    axonic cv CONFIG.toml [--folds K]                       (axonic.cli.cv)
    axonic explain RUN_DIR INPUT.npy [--method integrated_gradients] [--target 3] [--out F]
    axonic lr-find [CONFIG.toml] [--out lr_find.png]
    axonic export RUN_DIR --format onnx --out model.onnx [--opset 17]   (axonic.cli.export)
    axonic --version

Every failure is one line on stderr and a documented exit code (docs/ERRORS.md): 0 done,
1 training stopped early (non-finite loss) or an internal error, 2 a usage, config, data,
checkpoint or environment error, 130 interrupted (the resume command is printed).

Without a config, ``axonic train`` trains a small CNN on scikit-learn's 8x8 handwritten
digits. The run directory it writes (the resolved config, the weights, what predict needs
to redo the inputs, the history, curves, test metrics and resumable checkpoints, see
``axonic.train.RunDir``) is what ``evaluate``, ``predict`` and ``train --resume`` read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonic", description="Train and use axonic models "
                                "described by a TOML configuration.")
    from axonic import __version__

    p.add_argument("--version", action="version", version=f"axonic {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model (default: a CNN on the bundled digits)")
    t.add_argument("config", nargs="?", help="a TOML configuration (see docs/TRAINING.md)")
    t.add_argument("--epochs", type=int, help="override the number of epochs")
    t.add_argument("--out", help="the run directory (default: runs/<name>-<time>)")
    t.add_argument("--seed", type=int, help="override the seed")
    t.add_argument("--device", help="override training.device ('cpu', 'cuda' or 'cuda:N')")
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
    pr.add_argument("--proba", action="store_true", help="class probabilities instead of "
                    "labels (classification runs)")
    s = sub.add_parser("summary", help="validate a config and show the model's layers")
    s.add_argument("config")
    from axonic.cli import cv, tune

    tune.add_parser(sub)
    cv.add_parser(sub)
    from axonic.cli.explain import add_parser as add_explain
    from axonic.cli.lr_find import add_parser as add_lr_find

    add_explain(sub)
    add_lr_find(sub)
    from axonic.cli.export import add_parser as add_export

    add_export(sub)
    return p


EXIT_OK, EXIT_STOPPED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130  # docs/ERRORS.md


def _user_errors() -> tuple:
    """The errors a user can fix: one line and exit 2, never a traceback."""
    from axonic.cli.config import ConfigError
    from axonic.train.checkpoint import CheckpointError
    from axonic.train.run_dir import RunDirError

    return (ConfigError, CheckpointError, RunDirError, ImportError, OSError)


def main(argv=None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        from axonic.cli.cv import cmd_cv
        from axonic.cli.explain import cmd_explain
        from axonic.cli.export import cmd_export
        from axonic.cli.lr_find import cmd_lr_find
        from axonic.cli.train import cmd_train
        from axonic.cli.tune import cmd_tune

        return {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
                "summary": cmd_summary, "tune": cmd_tune, "cv": cmd_cv,
                "explain": cmd_explain, "lr-find": cmd_lr_find,
                "export": cmd_export}[args.command](args)
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside training
        print(f"axonic {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _user_errors() as e:
        print(f"axonic {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001  (a bug: still one line, the traceback on request)
        if os.environ.get("AXONIC_TRACEBACK"):
            raise
        print(f"axonic {args.command}: internal error: {type(e).__name__}: {_one_line(e)} "
              "(set AXONIC_TRACEBACK=1 to see the traceback)", file=sys.stderr)
        return EXIT_STOPPED


def _one_line(e: BaseException) -> str:
    text = str(e) if not isinstance(e, OSError) or not e.filename else (
        f"{e.strerror or e}: {e.filename}")
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


# --- shared steps ---------------------------------------------------------------------------
def _config(path):
    """The resolved configuration; a ``[tune]`` table (``axonic tune``'s search) is left
    aside, so the same file trains as written."""
    from axonic.cli.config import DEFAULT, read_toml, resolve

    if path is None:
        return resolve(DEFAULT)
    raw = read_toml(path)
    if isinstance(raw, dict):
        raw.pop("tune", None)
    return resolve(raw)


def _setup(cfg):
    """Seeded data splits, model, loss, checked before any training: settings, model size
    (before allocating), a dry forward layer by layer, then one real training batch
    through model and loss, and a column per class."""
    import axonic
    from axonic.cli import preflight
    from axonic.cli.builders import (
        build_loss,
        build_metrics,
        build_model,
        build_optimizer,
        build_scheduler,
        check_model,
    )
    from axonic.cli.data import build_splits

    preflight.check_name(cfg["name"])
    preflight.check_training(cfg)
    preflight.check_model_size(cfg)
    axonic.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    splits = build_splits(cfg)
    x, y = splits.train
    _fill_widths(cfg, x[:2])
    model = build_model(cfg)
    loss = build_loss(cfg)
    out_shape = check_model(model, axonic.tensor(x[:2]), axonic.tensor(y[:2]), loss)
    batch = cfg["data"]["batch_size"]
    check_model(model, axonic.tensor(x[:batch]), axonic.tensor(y[:batch]), loss)
    classes = len(splits.classes) if splits.classes else (
        int(y.max()) + 1 if y.dtype.kind in "iu" and y.ndim == 1 and len(y) else None)
    preflight.check_classes(cfg, out_shape, classes)
    preflight.check_metrics(cfg, build_metrics(cfg))
    build_scheduler(cfg, build_optimizer(cfg, model.parameters()), 1)  # a dry build: checks
    return splits, model, loss, out_shape


def _fill_widths(cfg, sample) -> None:
    """Put the input widths the config leaves out into ``cfg`` (from the previous layer's
    output, as ``axonic tune`` does); the random state is left as it was."""
    from axonic.cli import preflight
    from axonic.tune.widths import infer_widths, omits_widths

    if not omits_widths(cfg["model"]["layers"]):
        return
    import axonic

    state = axonic.get_rng_state(), np.random.get_state()
    try:
        cfg["model"]["layers"] = infer_widths(cfg["model"]["layers"], axonic.tensor(sample))
    finally:
        axonic.set_rng_state(state[0])
        np.random.set_state(state[1])
    preflight.check_model_size(cfg)


def _load_run(path):
    import axonic
    from axonic.cli.builders import build_model
    from axonic.cli.config import ConfigError, resolve
    from axonic.io.guarded import UnsafeFileError, read_json_in
    from axonic.train import RunDir

    run = RunDir(path)
    if run.config.is_file() and not run.model.is_file():
        raise ConfigError(f"{run.path} is an unfinished run (no {RunDir.MODEL} yet); "
                          f"continue it with: axonic train --resume {run.path}")
    for name in run.missing():
        raise ConfigError(f"{run.path} is not a run directory: {name} is missing")
    try:
        cfg = resolve(read_json_in(run.path, RunDir.CONFIG))
        pre = read_json_in(run.path, RunDir.PREPROCESS)
    except UnsafeFileError as e:
        raise ConfigError(str(e)) from None
    if not isinstance(pre, dict) or not isinstance(pre.get("input_shape"), list):
        raise ConfigError(f"{run.preprocess}: expected an object with input_shape")
    model = build_model(cfg)
    try:
        model.load_state_dict(axonic.load(run.model))
    except (ValueError, RuntimeError, TypeError) as e:
        raise ConfigError(f"{run.model}: {e}") from None
    model.eval()
    return cfg, pre, model


def _report(cfg, target, output, out=None, split: str = "test", classes=None) -> dict:
    from axonic.cli.builders import is_classification
    from axonic.cli.report import confusion_text
    from axonic.train import RunDir
    from axonic.train.metrics import classification_report, regression_report

    out = out if out is not None else sys.stdout
    if is_classification(cfg):
        threshold = 0.5 if cfg["loss"]["type"] == "BCELoss" else 0.0
        r = classification_report(target, output, threshold=threshold)
        print(f"{split} accuracy: {r['accuracy']:.4f}   macro F1: {r['f1_macro']:.4f}"
              + (f"   ROC-AUC: {r['roc_auc']:.4f}" if "roc_auc" in r else ""), file=out)
        if len(r["confusion_matrix"]) <= 12:
            print(confusion_text(r["confusion_matrix"], classes), file=out)
        else:
            print(f"(the confusion matrix is in {RunDir.TEST_METRICS})", file=out)
    else:
        r = regression_report(target, output)
        print(f"{split} " + "   ".join(f"{k.upper()}: {v:.4g}" for k, v in r.items()),
              file=out)
    return r


# --- commands -------------------------------------------------------------------------------
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
    _report(cfg, part[1], trainer.predict(part[0]).numpy(), split=args.split,
            classes=pre.get("classes"))
    return 0


def cmd_predict(args) -> int:
    import axonic
    from axonic.cli.builders import is_classification
    from axonic.cli.config import ConfigError
    from axonic.cli.data import raw_csv_features, read_table, standardize
    from axonic.cli.report import probabilities

    cfg, pre, model = _load_run(args.run_dir)
    X = raw_csv_features(cfg, args.input)  # text columns encoded as in training
    X = read_table(args.input) if X is None else X
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
    if args.proba and not is_classification(cfg):
        raise ConfigError("predict --proba: this run is a regression (loss "
                          f"{cfg['loss']['type']}); it has no class probabilities")
    if args.proba:
        result = probabilities(cfg, out)
        classes = pre.get("classes") or list(range(result.shape[1]))
        lines = [",".join(str(c) for c in classes)] + [
            ",".join(f"{v:.6f}" for v in row) for row in result]
    elif is_classification(cfg):
        if out.ndim == 2 and out.shape[1] > 1:
            pred = out.argmax(1)
        else:
            pred = (out.reshape(-1) > (0.5 if cfg["loss"]["type"] == "BCELoss" else 0.0))
            pred = pred.astype(np.int64)
        classes = pre.get("classes")
        lines = [str(classes[p]) if classes and p < len(classes) else str(p) for p in pred]
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
                       fmt="%d" if result.dtype.kind == "i" else "%.8g",
                       header=lines[0] if args.proba else "", comments="")
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
