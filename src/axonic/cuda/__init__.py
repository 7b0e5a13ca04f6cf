"""``axonic.cuda``: the GPU (CuPy) as PyTorch's ``torch.cuda`` names it.

Every function behaves as PyTorch's does on a machine without CUDA when CuPy or a GPU is
missing: ``is_available()`` is False, ``device_count()`` 0, memory readings 0, seeding a
no-op, and the calls that need a GPU (``current_device``, ``synchronize``, ``Event``...)
raise a ``RuntimeError`` that says what is missing.

>>> import axonic
>>> axonic.cuda.is_available() in (True, False)
True
>>> axonic.cuda.memory_allocated() >= 0
True
"""

from axonic.backend import cuda_is_available as is_available  # noqa: F401
from axonic.cuda.devices import (  # noqa: F401
    current_device,
    device,
    device_count,
    get_device_name,
    get_device_properties,
    is_initialized,
    set_device,
    synchronize,
)
from axonic.cuda.memory import (  # noqa: F401
    empty_cache,
    max_memory_allocated,
    max_memory_reserved,
    memory_allocated,
    memory_reserved,
    reset_peak_memory_stats,
)
from axonic.cuda.random import (  # noqa: F401
    get_rng_state,
    get_rng_state_all,
    initial_seed,
    manual_seed,
    manual_seed_all,
    seed,
    seed_all,
    set_rng_state,
    set_rng_state_all,
)
from axonic.cuda.streams import Event, Stream, current_stream, default_stream, stream  # noqa: F401


def __getattr__(name):
    if name == "amp":  # axonic.amp is imported only when asked for
        import importlib

        module = importlib.import_module("axonic.cuda.amp")
        globals()["amp"] = module
        return module
    raise AttributeError(f"module 'axonic.cuda' has no attribute {name!r}")
