"""``axonic train``: from a config (or the default) to a finished run directory.

Under ``mpirun``/``srun`` every rank trains its shard (``Trainer(distributed=True)``) and
rank 0 alone names, locks and writes the run directory.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from axonic.cli.main import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STOPPED,
    _config,
    _dataset,
    _report,
    _setup,
)


def cmd_train(args) -> int:
    from axonic.cli import preflight
    from axonic.cli.config import ConfigError, resolve
    from axonic.io.guarded import UnsafeFileError, read_json_in
    from axonic.train import RunDir

    start = time.perf_counter()
    preflight.require_extras("axonic train")
    if args.resume:
        resume = RunDir(args.resume)
        if not resume.config.is_file():
            raise ConfigError(f"--resume: {resume.path} has no {RunDir.CONFIG} (not a run "
                              "directory)")
        try:
            cfg = resolve(read_json_in(resume.path, RunDir.CONFIG))
        except UnsafeFileError as e:
            raise ConfigError(f"--resume: {e}") from None
        if resume.test_metrics.is_file() and args.epochs is None:
            print(f"axonic train: {resume.path} finished all its {cfg['epochs']} epochs "
                  "already; nothing to do (add --epochs N to train it further)")
            return EXIT_OK
        args.out = str(resume.path)
    else:
        cfg = _config(args.config)
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    if args.seed is not None:
        cfg["seed"] = args.seed
    if getattr(args, "device", None) is not None:
        cfg["training"]["device"] = args.device
    if args.out and not args.resume:
        preflight.check_out(Path(args.out), resume=False)
    splits, model, loss, _ = _setup(cfg)
    group = _process_group()  # under mpirun: rank 0 names, locks and writes the run directory
    is_main = group is None or group.get_rank() == 0
    run = RunDir(args.out) if args.out else RunDir.new(cfg["name"])
    if group is not None:
        run = RunDir(group.all_gather_object(str(run.path))[0])
    lock = run.lock() if is_main else None  # "in use by pid N" / "not writable" up front
    try:
        return _train(args, cfg, run, splits, model, loss, start, group)
    finally:
        if lock is not None:
            lock.release()


def _train(args, cfg, run, splits, model, loss, start, group=None) -> int:
    import axonic
    from axonic.cli.builders import (
        build_callbacks,
        build_metrics,
        build_optimizer,
        build_scheduler,
    )
    from axonic.train import Trainer

    is_main = group is None or group.get_rank() == 0
    tr = cfg["training"]
    optimizer = build_optimizer(cfg, model.parameters())
    batch = cfg["data"]["batch_size"]
    steps = -(-len(splits.train[0]) // batch)
    scheduler, interval = build_scheduler(cfg, optimizer, steps)
    metrics = build_metrics(cfg)
    callbacks = build_callbacks(cfg, run, splits.val is not None)
    from axonic.cli.distill import distill_callback

    if (distill := distill_callback(cfg, splits, model)) is not None:
        callbacks.append(distill)
    from axonic.train.diagnostics import Diagnostics, TrainingReport

    callbacks.append(diagnostics := Diagnostics(verbose=not args.quiet and is_main))
    callbacks.append(TrainingReport(run / "report.html", diagnostics, title=cfg["name"]))
    trainer = Trainer(model, optimizer, loss, metrics=metrics, callbacks=callbacks,
                      device=tr["device"], grad_accum_steps=tr["grad_accum_steps"],
                      clip_grad_norm=tr["clip_grad_norm"], l2=tr["l2"], scheduler=scheduler,
                      scheduler_interval=interval, seed=cfg["seed"], config=cfg,
                      distributed=group is not None)
    resume_from = _resume_target(args, run) if args.resume else None
    if is_main:
        run.config.write_text(json.dumps(cfg, indent=2))
        pre = {"input_shape": list(splits.input_shape), "input_dtype": splits.input_dtype,
               "classes": splits.classes, **splits.preprocess}
        run.preprocess.write_text(json.dumps(pre))
    quiet = args.quiet or not cfg["callbacks"]["progress"] or not is_main
    if not quiet:
        print(f"axonic train: {cfg['name']}: {len(splits.train[0])} training samples, "
              f"{sum(p.numel() for p in model.parameters())} parameters -> {run.path}")
    train = _dataset(splits.train, splits.train_transform)
    history = trainer.fit(train, validation=splits.val, epochs=cfg["epochs"], batch_size=batch,
                          shuffle=cfg["data"]["shuffle"], verbose=0 if quiet else 1,
                          resume_from=resume_from)
    reason = history.stop_reason or ""
    if not is_main:  # the other ranks trained their shards; rank 0 reports and writes
        return EXIT_INTERRUPTED if reason.startswith("interrupted") else (
            EXIT_STOPPED if reason else EXIT_OK)
    if reason.startswith("interrupted"):
        print(f"axonic train: {reason}; the last checkpoint is in {run.checkpoints}. "
              f"Continue with: axonic train --resume {run.path}", file=sys.stderr)
        return EXIT_INTERRUPTED
    axonic.save(model.state_dict(), run.model)
    if reason:
        print(f"axonic train: stopped early: {reason}", file=sys.stderr)
    result = {"history": history.history, "stop_reason": history.stop_reason,
              "findings": [str(f) for f in diagnostics.findings]}
    if splits.test is not None:
        output = trainer.predict(splits.test[0]).cpu().numpy()
        result["test"] = _report(cfg, splits.test[1], output, classes=splits.classes)
    result["wall_time_s"] = time.perf_counter() - start
    run.test_metrics.write_text(json.dumps(result, indent=1))
    _titled_curves(cfg, run, history, result.get("test"))
    print(f"run directory: {run.path}  ({result['wall_time_s']:.1f}s)")
    return EXIT_OK if not reason else EXIT_STOPPED


def _titled_curves(cfg, run, history, test) -> None:
    """Redraw the curves with the run's name and test score in the title."""
    if not run.curves.is_file() or not len(history):
        return  # no Plotter (off, or matplotlib missing)
    from axonic.train.callbacks.plotter import plot_history

    key = "accuracy" if test and "accuracy" in test else ("r2" if test and "r2" in test
                                                          else None)
    score = f": test {key} {test[key]:.4f}" if key else ""
    plot_history(history, run.curves, title=f"{cfg['name']}{score}")


def _resume_target(args, run) -> tuple:
    """What ``--resume`` continues from: the checkpoint folder, or None (with a note) for a
    run stopped before its first checkpoint. A dangling ``last`` is an error."""
    from axonic.train.checkpoint import resolve_checkpoint

    last = run.last_checkpoint
    if last.is_symlink() or last.exists():
        resolve_checkpoint(run.checkpoints)  # a missing target raises here, before training
        return run.checkpoints
    print(f"axonic train: {run.path} has no checkpoint yet; training starts from epoch 1",
          file=sys.stderr)
    return None


def _process_group():
    """``axonic.distributed`` when ``mpirun``/``srun`` started several processes, else None."""
    from axonic import distributed as dist

    if dist.launched_world_size() <= 1:
        return None
    if not dist.is_initialized():
        dist.init_process_group()
    return dist
