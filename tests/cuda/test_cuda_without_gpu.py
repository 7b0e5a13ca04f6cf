"""axonic.cuda without CuPy or a GPU behaves as torch.cuda does on a machine without CUDA."""

import pytest

import axonic
import axonic.cuda as cuda
from tests.conftest import requires_torch, torch


def test_without_cuda_the_readings_are_those_of_torch(no_cupy):
    assert cuda.is_available() is False
    assert cuda.device_count() == 0
    assert cuda.memory_allocated() == cuda.max_memory_allocated() == 0
    assert cuda.memory_reserved() == cuda.max_memory_reserved() == 0
    assert cuda.get_rng_state_all() == []
    assert cuda.is_initialized() is False


@requires_torch
def test_without_cuda_the_readings_match_torch_cpu_build(no_cupy):
    if torch.cuda.is_available():
        pytest.skip("this PyTorch sees a GPU; the comparison is with torch.cuda without one")
    assert cuda.device_count() == torch.cuda.device_count()
    assert cuda.memory_allocated() == torch.cuda.memory_allocated()
    assert cuda.max_memory_allocated() == torch.cuda.max_memory_allocated()
    assert cuda.memory_reserved() == torch.cuda.memory_reserved()


def test_without_cuda_seeding_and_empty_cache_do_nothing(no_cupy):
    before = axonic.get_rng_state()
    assert cuda.manual_seed(3) is None
    assert cuda.manual_seed_all(3) is None
    assert cuda.seed() is None and cuda.seed_all() is None
    assert cuda.empty_cache() is None
    cuda.set_rng_state(axonic.tensor([0] * 8, dtype="uint8"))
    cuda.set_device(-1)
    assert axonic.get_rng_state() == before  # the host generator is untouched


@pytest.mark.parametrize("call,name", [
    (lambda: cuda.current_device(), "current_device"),
    (lambda: cuda.synchronize(), "synchronize"),
    (lambda: cuda.set_device(0), "set_device"),
    (lambda: cuda.get_device_name(), "get_device_name"),
    (lambda: cuda.initial_seed(), "initial_seed"),
    (lambda: cuda.get_rng_state(), "get_rng_state"),
    (lambda: cuda.reset_peak_memory_stats(), "reset_peak_memory_stats"),
    (lambda: cuda.Event(), "Event"),
    (lambda: cuda.Stream(), "Stream"),
    (lambda: cuda.current_stream(), "current_stream"),
])
def test_without_cuda_gpu_only_calls_raise_naming_the_call(no_cupy, call, name):
    with pytest.raises(RuntimeError, match=rf"axonic\.cuda\.{name}: CUDA is not available "
                                           r"\(needs CuPy .*pip install 'axonic\[gpu\]'"):
        call()


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_manual_seed_rejects_a_bad_seed(bad):
    with pytest.raises(ValueError, match=rf"axonic\.cuda\.manual_seed: seed must be a "
                                         rf"non-negative integer, got {bad!r}"):
        cuda.manual_seed(bad)


def test_set_rng_state_rejects_a_foreign_state():
    with pytest.raises(ValueError, match=r"set_rng_state: expected the uint8 tensor of shape "
                                         r"\(8,\).*got dtype float32 shape \(3,\)"):
        cuda.set_rng_state(axonic.zeros(3))


def test_cuda_amp_forwards_to_axonic_amp(monkeypatch):
    import sys
    import types

    calls = []
    fake_amp = types.SimpleNamespace(
        autocast=lambda device_type, **kw: calls.append((device_type, kw)) or "ctx",
        GradScaler="the scaler")
    monkeypatch.setitem(sys.modules, "axonic.amp", fake_amp)
    assert cuda.amp.autocast(dtype="float16") == "ctx"
    assert calls == [("cuda", {"enabled": True, "cache_enabled": True, "dtype": "float16"})]
    assert cuda.amp.GradScaler == "the scaler"
