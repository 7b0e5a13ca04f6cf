"""The array module per device: NumPy on ``"cpu"``, CuPy on ``"cuda"``.

This is the only place that knows CuPy. Everything else asks ``get_array_module``
for the ``xp`` of its arrays and has one code path.
"""

from axonic.backend.allocator import tune_malloc
from axonic.backend.device import (
    Device,
    as_device,
    cuda_is_available,
    device_of,
    get_array_module,
    to_device,
    to_numpy,
)
from axonic.backend.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    is_floating,
    resolve_dtype,
    set_default_dtype,
)

tune_malloc()
