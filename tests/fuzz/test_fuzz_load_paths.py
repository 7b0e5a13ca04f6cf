"""Seeded fuzzing of every load path: mutated weight files, corrupted / edited checkpoints,
edited manifests and mutated configs. Each case must load or be refused with axonic's own
one-line error: no raw exception, no half-restored trainer, no hang, no file opened
outside the checkpoint folder. (bench/fuzz_load_paths.py runs the same cases by the
thousand.)"""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz import harness

ROOT = Path(__file__).resolve().parents[2]
CASES = 80  # per kind (bench/fuzz_load_paths.py runs thousands)


def _failures(outcomes):
    return [o for o in outcomes if o.split(":")[0] in harness.FAILURES]


def test_mutated_weight_files_load_or_fail_cleanly(tmp_path):
    rng = np.random.default_rng(12)
    template = harness.weights_template(tmp_path)
    outcomes = []
    for i in range(CASES * 2):
        work = tmp_path / str(i)
        work.mkdir()
        outcomes.append(harness.case_weights(rng, template, work))
    assert _failures(outcomes) == []
    assert outcomes.count("clean") > CASES  # the mutations do reach the checks


@pytest.mark.parametrize("kind", ["corrupted", "edited", "manifest"])
def test_mutated_checkpoints_resume_or_fail_cleanly_without_half_restore(tmp_path, kind):
    rng = np.random.default_rng({"corrupted": 1, "edited": 2, "manifest": 3}[kind])
    template = harness.checkpoint_template(tmp_path)
    outcomes = []
    for i in range(CASES):
        work = tmp_path / str(i)
        work.mkdir()
        outcomes.append(harness.case_checkpoint(rng, template, work, kind))
    assert _failures(outcomes) == []
    assert outcomes.count("clean") > CASES // 2


def test_mutated_configs_pass_or_fail_with_one_line_and_exit_2(tmp_path):
    rng = np.random.default_rng(4)
    bases = [tomllib.loads(p.read_text())
             for p in sorted((ROOT / "examples" / "configs").glob("*.toml"))
             if "digits" in p.name or "wine" in p.name]
    outcomes = []
    for i in range(60):
        work = tmp_path / str(i)
        work.mkdir()
        outcomes.append(harness.case_config(rng, bases[i % len(bases)], work))
    assert _failures(outcomes) == []
    assert 0 < outcomes.count("ok") < len(outcomes)
