import pytest

from axonic.backend import device as backend_device


def pytest_configure(config):
    config.addinivalue_line("markers", "on_device: runs on --device (the cuda test mode) "
                                       "against the CPU; deselected without --device")


def pytest_collection_modifyitems(config, items):
    device = config.getoption("--device")
    marked = [item for item in items if item.get_closest_marker("on_device")]
    if not device:  # not in the cuda test mode: these tests are not part of the run
        if marked:
            config.hook.pytest_deselected(items=marked)
            items[:] = [item for item in items if not item.get_closest_marker("on_device")]
        return
    if device.startswith("cuda") and not backend_device.cuda_is_available():
        skip = pytest.mark.skip(reason=f"--device {device}: CuPy with an NVIDIA GPU is not "
                                       "available here (pip install cupy-cuda12x on a GPU "
                                       "machine)")
        for item in marked:
            item.add_marker(skip)


@pytest.fixture
def device(request):
    """The device under test in the cuda test mode ('cuda', 'cuda:1' or 'cpu')."""
    return request.config.getoption("--device")


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
