"""A training run for the kill -9 tests: ``python -m tests.fuzz.killable DIR MODE EPOCHS``.

It trains tests/train/tiny.py's model with a checkpoint at every step, resuming from
``DIR/last`` when there is one. ``MODE=cleanup`` makes the clean-up of old checkpoints
stop half-way through deleting one (after touching ``DIR.in-cleanup``), so that the test
can kill it exactly there; ``MODE=random`` runs normally."""

import shutil
import sys
import time
from pathlib import Path

from tests.train import tiny


def main(folder: str, mode: str, epochs: int) -> None:
    folder = Path(folder)
    if mode == "cleanup":
        real = shutil.rmtree

        def rmtree_then_hang(path, ignore_errors=False):
            files = sorted(Path(path).iterdir()) if Path(path).is_dir() else []
            for f in files[: len(files) // 2]:
                f.unlink()
            Path(f"{folder}.in-cleanup").touch()
            time.sleep(30)  # killed here
            real(path, ignore_errors=ignore_errors)
        shutil.rmtree = rmtree_then_hang
    tiny.run(folder, epochs=epochs, resume=(folder / "last").is_symlink(), every_n_steps=1,
             sleep=0.01)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
