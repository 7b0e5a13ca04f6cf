"""The torch import shim: `import torch` gives axonic inside it and real PyTorch after."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

import axonic
from axonic.compat import run as compat_run
from axonic.compat import torch as shim


def test_import_torch_gives_axonic_modules_and_objects():
    with shim.installed():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 1)

        assert isinstance(Net(), axonic.nn.Module)
        assert F.relu is axonic.nn.functional.relu
        assert torch.Tensor is axonic.Tensor
        assert DataLoader is axonic.data.DataLoader
        assert isinstance(torch.tensor([1.0]), axonic.Tensor)


def test_uninstall_brings_back_real_torch():
    real = pytest.importorskip("torch")
    with shim.installed():
        import torch
        assert torch is not real
        assert shim.is_installed()
    import torch

    assert torch is real and not shim.is_installed()
    assert not any(isinstance(m, shim.TorchView) for m in sys.modules.values())


def test_install_twice_is_a_no_op_and_uninstall_undoes_once():
    assert shim.install() is True
    try:
        assert shim.install() is False
    finally:
        assert shim.uninstall() is True
    assert shim.uninstall() is False


def test_missing_torch_name_says_which_and_is_an_attribute_error():
    with shim.installed():
        import torch
        with pytest.raises(shim.MissingTorchName, match=r"torch\.no_such_fn is not available "
                           r"on axonic \(axonic has no 'no_such_fn'\); see docs/COMPAT.md"):
            torch.no_such_fn  # noqa: B018
        assert not hasattr(torch.nn, "NoSuchLayer")


def test_missing_torch_module_says_which_and_is_a_module_not_found_error():
    with shim.installed():
        with pytest.raises(ModuleNotFoundError, match=r"No module named 'torch\.no_such_pkg' on "
                           r"axonic \(no axonic\.no_such_pkg\); see docs/COMPAT.md"):
            import torch.no_such_pkg  # noqa: F401


def test_utils_data_maps_to_axonic_data_with_its_submodules():
    with shim.installed():
        import torch.utils.data.sampler as sampler

        assert sampler.RandomSampler is axonic.data.RandomSampler


def test_setting_a_flag_on_a_torch_module_sets_it_on_axonic():
    with shim.installed():
        import torch.nn

        torch.nn._compat_probe_flag = 3
    try:
        assert axonic.nn._compat_probe_flag == 3
    finally:
        del axonic.nn._compat_probe_flag


def test_run_script_passes_argv_and_returns_globals(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("import sys, torch\nargs = sys.argv[1:]\n"
                      "total = torch.ones(int(args[0])).sum().item()\n")
    out = compat_run.run_script(str(script), ["5"])
    assert out["args"] == ["5"] and out["total"] == 5.0
    assert not shim.is_installed()


def test_run_module_runs_it_as_main(tmp_path, monkeypatch):
    (tmp_path / "progmod.py").write_text("import torch\nn = torch.zeros(2, 3).numel()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert compat_run.run_module("progmod")["n"] == 6


def test_command_line_errors_name_what_was_given(capsys, tmp_path):
    assert compat_run.main(["frobnicate", "x.py"]) == 2
    assert "expected `run SCRIPT.py [ARGS]`, got 'frobnicate x.py'" in capsys.readouterr().err
    assert compat_run.main(["run", str(tmp_path / "nope.py")]) == 2
    assert "axonic.compat run: no script file" in capsys.readouterr().err
    assert compat_run.main([]) == 2
    assert compat_run.main(["--help"]) == 0
    assert "usage: python -m axonic.compat run" in capsys.readouterr().out


def test_python_dash_m_axonic_compat_run_in_one_line(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import torch.nn as nn\nprint(type(nn.Linear(2, 2)).__module__)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-m", "axonic.compat", "run", str(script)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "axonic.nn.linear"


def test_torch_cuda_amp_grad_scaler_is_axonics_amp_one():
    with shim.installed():
        import torch

        scaler = torch.cuda.amp.GradScaler(enabled=False)
        assert type(scaler) is axonic.amp.GradScaler
        loss = torch.tensor(2.0)
        assert scaler.scale(loss) is loss


COMPAT_DOC = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "COMPAT.md").read_text()


def test_compat_doc_shim_example_runs():
    block = re.findall(r"```python\n(.*?)```", COMPAT_DOC, re.S)[0]
    namespace = {}
    exec(block, namespace)
    assert namespace["y"].tolist() == [0.0, 2.0] and not shim.is_installed()


def test_compat_doc_lists_every_program_with_its_status():
    programs = sorted(p.name for p in (pathlib.Path(__file__).parent / "programs").glob("*.py")
                      if not p.name.startswith(("_", "test_")))
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r"^\| `(\w+\.py)`.*\| (\w[\w ]*) \|$", COMPAT_DOC, re.M)}
    assert sorted(rows) == programs
    assert set(rows.values()) == {"passes"}


def test_from_torch_import_of_a_missing_name_names_it():
    with shim.installed():
        with pytest.raises(ImportError, match=r"cannot import name 'no_such_fn' from 'torch'"):
            from torch import no_such_fn  # noqa: F401
        from torch.nn import Linear  # and a present one still imports

        assert Linear is axonic.nn.Linear


def test_star_import_from_a_torch_module_gives_axonics_public_names():
    namespace = {}
    with shim.installed():
        exec("from torch.nn import *", namespace)
    assert namespace["Linear"] is axonic.nn.Linear and namespace["LSTMCell"] is axonic.nn.LSTMCell
    assert not any(name.startswith("_") for name in namespace if name != "__builtins__")


def test_an_axonic_module_failing_on_its_own_import_is_not_reported_as_missing(monkeypatch):
    def import_module(name):  # axonic.<x> exists but needs a dependency that is not installed
        raise ModuleNotFoundError("No module named 'somedep'", name="somedep")

    monkeypatch.setattr(shim.importlib, "import_module", import_module)
    with pytest.raises(ModuleNotFoundError, match="^No module named 'somedep'$"):
        shim._resolve("torch.needs_somedep")
