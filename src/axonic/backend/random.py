"""Random number generators whose state can be saved and restored.

Every random draw in axonic (creation functions, initialisers, dropout, shuffling,
augmentation) goes through a ``Generator``; ``axonic.manual_seed(n)`` reseeds the
default one. Draws are made on the CPU and moved to the target device, so a seed
gives the same numbers on every device.
"""

from __future__ import annotations

import numpy as np

from axonic.backend.device import to_device


class Generator:
    """A PCG64 random generator with PyTorch's ``manual_seed`` / ``get_state`` API.

    >>> g = Generator().manual_seed(0)
    >>> s = g.get_state()
    >>> a = g.normal(0, 1, (3,))
    >>> g.set_state(s)
    >>> bool((g.normal(0, 1, (3,)) == a).all())
    True
    """

    def __init__(self, device="cpu"):
        self._seed = 0
        self._rng = None

    @property
    def rng(self):
        """The NumPy ``Generator`` behind the draws, made on first use (``numpy.random``
        costs a tenth of ``import axonic``, so it waits until something is drawn)."""
        if self._rng is None:
            self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self._rng

    @rng.setter
    def rng(self, rng):
        self._rng = rng

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(int(seed)))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as plain JSON-serialisable data."""
        st = self.rng.bit_generator.state
        return {"bit_generator": st["bit_generator"],
                "state": {"state": int(st["state"]["state"]), "inc": int(st["state"]["inc"])},
                "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"]),
                "seed": self._seed}

    def set_state(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
            raise ValueError("set_state: expected a state dict from Generator.get_state()")
        self._seed = int(state.get("seed", 0))
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(state["state"]["state"]), "inc": int(state["state"]["inc"])},
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"]),
        }

    # --- draws: arrays of the requested dtype on the requested device ------------------
    def uniform(self, low, high, shape, dtype=np.float32, device="cpu"):
        dtype = np.dtype(dtype)
        if dtype in (np.float32, np.float64):
            a = self.rng.random(shape, dtype=dtype)
            a *= high - low
            a += low
        else:
            a = self.rng.uniform(low, high, shape).astype(dtype)
        return _place(a, device)

    def normal(self, mean, std, shape, dtype=np.float32, device="cpu"):
        dtype = np.dtype(dtype)
        if dtype in (np.float32, np.float64):
            a = self.rng.standard_normal(shape, dtype=dtype)
            if std != 1:
                a *= std
            if mean != 0:
                a += mean
        else:
            a = self.rng.normal(mean, std, shape).astype(dtype)
        return _place(a, device)

    def integers(self, low, high, shape, dtype=np.int64, device="cpu"):
        return _place(self.rng.integers(low, high, shape, dtype=dtype), device)

    def permutation(self, n: int):
        return self.rng.permutation(n)

    def bernoulli(self, p, shape, dtype=np.float32, device="cpu"):
        """A 0/1 array where each element is 1 with probability ``p``."""
        return _place((self.rng.random(shape, dtype=np.float32) < p).astype(dtype), device)


def _place(a, device):
    return a if device is None or str(device) == "cpu" else to_device(a, device)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every random draw of axonic; returns the default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)
