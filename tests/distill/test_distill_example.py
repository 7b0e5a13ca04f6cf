"""examples/distill.py runs: a teacher, and each seed's student alone and distilled."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distill.py"


def test_distill_example_trains_a_teacher_and_both_students(capsys):
    spec = importlib.util.spec_from_file_location("example_distill", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.main(seeds=1, epochs=2, train=100, teacher_data="same", teacher_epochs=15,
                    teacher_lr=1e-3)
    assert r["teacher"] > 0.5  # 15 epochs on 100 images: well above chance (0.1)
    assert len(r["alone"]) == len(r["distilled"]) == 1
    assert all(0.0 <= a <= 1.0 for a in r["alone"] + r["distilled"])
    assert "distilled" in capsys.readouterr().out
    with pytest.raises(ValueError, match="teacher_data must be 'same' or 'pool', got 'all'"):
        module.main(teacher_data="all")


@pytest.mark.slow
def test_distilled_student_beats_the_student_alone_over_five_seeds(capsys):
    spec = importlib.util.spec_from_file_location("example_distill", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.main()  # 5 seeds; the teacher trained on the whole pool, students on 200
    assert len(r["alone"]) == len(r["distilled"]) == 5
    assert sum(r["distilled"]) / 5 > sum(r["alone"]) / 5, r
