"""Hyperparameter search from Python: the digits CNN of examples/tune/cnn_digits.toml,
then 5-fold cross-validation of the best configuration it found.

    python examples/tune_digits.py [TRIALS]
"""

import sys
from pathlib import Path

import axonic.tune

HERE = Path(__file__).resolve().parent


def main(trials: int = 12, out: str = "runs/tune-digits"):
    study = axonic.tune.run(HERE / "tune" / "cnn_digits.toml", out=out, trials=trials)
    print(f"best val_accuracy {study.best_value:.4f} with {study.best_params}")
    result = axonic.tune.cross_validate(Path(out) / "best.toml", folds=5,
                                        out=Path(out) / "cv-best")
    print(f"5-fold val_accuracy of the best config: {result['mean']['val_accuracy']:.4f} ± "
          f"{result['std']['val_accuracy']:.4f}")
    return study, result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
