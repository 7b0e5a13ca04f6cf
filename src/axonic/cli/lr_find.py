"""``axonic lr-find CONFIG``: the learning-rate range test on a config's model and data.

    axonic lr-find examples/configs/cnn_digits.toml [--min-lr 1e-7] [--max-lr 10]
        [--num-steps 100] [--out lr_find.png]
"""

from __future__ import annotations


def add_parser(sub) -> None:
    f = sub.add_parser("lr-find", help="suggest a learning rate (learning-rate range test)")
    f.add_argument("config", nargs="?", help="a TOML configuration (default: the digits CNN)")
    f.add_argument("--min-lr", type=float, default=1e-7)
    f.add_argument("--max-lr", type=float, default=10.0)
    f.add_argument("--num-steps", type=int, default=100)
    f.add_argument("--out", default="lr_find.png", help="the loss-against-rate plot")


def cmd_lr_find(args) -> int:
    from axonic.cli.builders import build_optimizer
    from axonic.cli.config import ConfigError
    from axonic.cli.main import _config, _setup
    from axonic.train import Trainer
    from axonic.train.diagnostics import lr_find

    cfg = _config(args.config)
    splits, model, loss, _ = _setup(cfg)
    trainer = Trainer(model, build_optimizer(cfg, model.parameters()), loss, seed=cfg["seed"])
    try:
        result = lr_find(trainer, splits.train, args.min_lr, args.max_lr, args.num_steps,
                         cfg["data"]["batch_size"], cfg["seed"])
    except ValueError as e:
        raise ConfigError(str(e)) from None
    result.plot(args.out)
    if result.suggestion is None:
        print(f"lr-find: no clear descent in {len(result.losses)} steps; see {args.out}")
        return 1
    print(f"suggested learning rate: {result.suggestion:.3g}  (optimizer.lr = "
          f"{result.suggestion:.3g} in {args.config or 'the config'}; plot: {args.out})")
    return 0
