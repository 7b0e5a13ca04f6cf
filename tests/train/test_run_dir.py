"""RunDir: the run directory's file names, defined once and used by the command, the
callbacks and the checkpoint resolver."""

from pathlib import Path

import numpy as np

from axonic.train import ModelCheckpoint, RunDir
from axonic.train.checkpoint import MANIFEST, resolve_checkpoint
from axonic.train.run_dir import BEST, LAST
from tests.train import tiny


def test_run_dir_layout_is_the_documented_one():
    run = RunDir("runs/x")
    got = {name: getattr(run, name).as_posix() for name in (
        "config", "preprocess", "model", "history", "curves", "test_metrics", "tensorboard",
        "checkpoints", "last_checkpoint")}
    assert got == {"config": "runs/x/config.json", "preprocess": "runs/x/preprocess.json",
                   "model": "runs/x/model.safetensors", "history": "runs/x/history.csv",
                   "curves": "runs/x/curves.png", "test_metrics": "runs/x/test_metrics.json",
                   "tensorboard": "runs/x/tensorboard", "checkpoints": "runs/x/checkpoints",
                   "last_checkpoint": "runs/x/checkpoints/last"}
    assert (LAST, BEST) == ("last", "best")
    assert Path(run) == Path("runs/x") and RunDir(run).path == Path("runs/x")


def test_missing_names_what_evaluate_and_predict_need(tmp_path):
    run = RunDir(tmp_path).create()
    assert run.missing() == ["config.json", "model.safetensors", "preprocess.json"]
    run.config.write_text("{}")
    run.preprocess.write_text("{}")
    assert run.missing() == ["model.safetensors"]


def test_new_run_dirs_never_collide(tmp_path):
    a = RunDir.new("mlp", root=tmp_path).create()
    b = RunDir.new("mlp", root=tmp_path).create()
    assert a.path != b.path and a.path.name.startswith("mlp-") and b.path.parent == tmp_path


def test_checkpoints_written_by_the_callback_resolve_from_the_run_dir(tmp_path):
    run = RunDir(tmp_path)
    t = tiny.trainer(callbacks=[ModelCheckpoint(run.checkpoints)])
    t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=1, batch_size=8, verbose=0)
    assert t.last_checkpoint == run.last_checkpoint
    found = resolve_checkpoint(run.path)
    assert found == run.last_checkpoint and (found / MANIFEST).is_file()
    assert (run.checkpoints / BEST).resolve() == found.resolve()
    other = tiny.trainer(m=tiny.model(seed=7))
    other.load_weights(run)
    for k, v in t.model.state_dict().items():
        assert np.array_equal(other.model.state_dict()[k].numpy(), v.numpy())
