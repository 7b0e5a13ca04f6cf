"""`axonic train --device` and `Trainer(device=...)` without a GPU: one clear error each."""

import pytest

from axonic import nn, optim
from axonic.cli.main import main
from tests.cli.test_hardening import config, one_line_error


def test_trainer_on_cuda_without_a_gpu_names_what_is_missing(no_cupy):
    from axonic.train import Trainer

    model = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"Trainer: device='cuda:1' but CUDA is not available "
                                           r"\(needs CuPy .*pip install 'axonic\[gpu\]'\)"):
        Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), device="cuda:1")


def test_train_device_flag_overrides_the_config_and_is_checked_first(tmp_path, capsys, no_cupy):
    msg = one_line_error(capsys, main(["train", str(config(tmp_path)), "--device", "cuda",
                                       "--out", str(tmp_path / "run")]))
    assert "training.device = 'cuda', but no CUDA GPU (with CuPy) is available here" in msg
    assert not (tmp_path / "run").exists()


def test_train_device_flag_rejects_an_unknown_device(tmp_path, capsys):
    msg = one_line_error(capsys, main(["train", str(config(tmp_path)), "--device", "tpu"]))
    assert "training.device: expected 'cpu' or 'cuda', got 'tpu'" in msg
