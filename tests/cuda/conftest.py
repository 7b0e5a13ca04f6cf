import pytest

from axonic.backend import device as backend_device


@pytest.fixture
def fake_cupy(monkeypatch):
    """``axonic`` sees the fake CuPy of ``tests/cuda/fake_cupy.py`` (two fake GPUs)."""
    from axonic.cuda import memory, random
    from tests.cuda.fake_cupy import make_fake_cupy

    cp = make_fake_cupy(2)
    monkeypatch.setattr(backend_device, "_cupy", cp)
    monkeypatch.setattr(backend_device, "_cupy_checked", True)
    monkeypatch.setattr(memory, "_tracking", [False])
    monkeypatch.setattr(memory, "_peak_allocated", {})
    monkeypatch.setattr(memory, "_peak_reserved", {})
    monkeypatch.setattr(random, "_seeds", {})
    return cp


@pytest.fixture
def no_cupy(monkeypatch):
    """``axonic`` sees no CuPy (as on a machine without CuPy or a GPU)."""
    monkeypatch.setattr(backend_device, "_cupy", None)
    monkeypatch.setattr(backend_device, "_cupy_checked", True)
