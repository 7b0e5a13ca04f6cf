"""CuPy's random generator, seeded as ``torch.cuda`` seeds its own.

axonic draws every random number of its own (initialisers, dropout, shuffling) on the
host and moves it to the device, so ``axonic.manual_seed(n)`` alone gives the same
numbers on ``"cpu"`` and ``"cuda"``. These functions seed CuPy's generator
(``cupy.random``), which code that calls CuPy directly draws from. Without CUDA the
seeding calls do nothing, as in PyTorch; the readings raise, as in PyTorch.

>>> import axonic
>>> axonic.cuda.manual_seed(0)
"""

from __future__ import annotations

import numpy as np

from axonic.cuda._lazy import cupy_or_none, require_cupy
from axonic.cuda.devices import _index, current_device, device_count

_seeds: dict = {}  # device index -> the seed CuPy's generator last received


def _check_seed(seed, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"axonic.cuda.{what}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _seed_device(cp, index: int, seed: int) -> None:
    with cp.cuda.Device(index):
        cp.random.seed(seed)
    _seeds[index] = seed


def manual_seed(seed: int) -> None:
    """Seed CuPy's generator on the current GPU (nothing without CUDA)."""
    seed = _check_seed(seed, "manual_seed")
    cp = cupy_or_none()
    if cp is not None:
        _seed_device(cp, current_device(), seed)


def manual_seed_all(seed: int) -> None:
    """Seed CuPy's generator on every GPU (nothing without CUDA)."""
    seed = _check_seed(seed, "manual_seed_all")
    cp = cupy_or_none()
    if cp is not None:
        for index in range(device_count()):
            _seed_device(cp, index, seed)


def seed() -> None:
    """Seed the current GPU's generator from the OS's entropy (nothing without CUDA)."""
    if cupy_or_none() is not None:
        manual_seed(int(np.random.SeedSequence().entropy % (2**63)))


def seed_all() -> None:
    """Seed every GPU's generator from the OS's entropy (nothing without CUDA)."""
    if cupy_or_none() is not None:
        manual_seed_all(int(np.random.SeedSequence().entropy % (2**63)))


def initial_seed() -> int:
    """The seed the current GPU's generator last received; raises without CUDA."""
    require_cupy("initial_seed")
    return _seeds.get(current_device(), 0)


def get_rng_state(device="cuda"):
    """The generator's state as a uint8 tensor; raises without CUDA (as PyTorch).

    cuRAND's running state cannot be read back, so the state is the 8-byte seed the
    generator last received: ``set_rng_state`` of it restarts the sequence from there.
    """
    require_cupy("get_rng_state")
    import axonic

    index = _index(device, "get_rng_state")
    return axonic.tensor(np.frombuffer(np.uint64(_seeds.get(index, 0)).tobytes(), np.uint8))


def get_rng_state_all() -> list:
    """``get_rng_state`` of every GPU (an empty list without CUDA, as PyTorch)."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device="cuda") -> None:
    """Reseed from a state ``get_rng_state`` returned (nothing without CUDA, as PyTorch)."""
    raw = np.asarray(getattr(new_state, "_data", new_state))
    if raw.dtype != np.uint8 or raw.shape != (8,):
        raise ValueError("axonic.cuda.set_rng_state: expected the uint8 tensor of shape (8,) "
                         f"that get_rng_state returns, got dtype {raw.dtype} shape {raw.shape}")
    cp = cupy_or_none()
    if cp is not None:
        _seed_device(cp, _index(device, "set_rng_state"), int(raw.view(np.uint64)[0]))


def set_rng_state_all(new_states) -> None:
    """``set_rng_state`` for every GPU, one state each."""
    for index, state in enumerate(new_states):
        set_rng_state(state, index)
