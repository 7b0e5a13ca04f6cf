"""``torch.amp``: ``autocast`` and ``GradScaler`` with PyTorch's names and semantics.

``autocast`` records that mixed precision was asked for (``is_autocast_enabled``,
``get_autocast_dtype``) and computes every op in the dtypes of its inputs: on the CPU in
float32 that is what a program expects, and axonic has no reduced-precision kernels to
switch to. ``GradScaler`` is an exact no-op when disabled and PyTorch's dynamic loss scaler
when enabled: ``scale``, ``unscale_``, ``step`` (skipped when a gradient is inf or nan) and
``update`` (grow by ``growth_factor`` after ``growth_interval`` clean steps, back off by
``backoff_factor`` on an overflow).

>>> import axonic
>>> from axonic import nn, optim
>>> model = nn.Linear(2, 1)
>>> opt = optim.SGD(model.parameters(), lr=0.1)
>>> scaler = axonic.amp.GradScaler("cpu", init_scale=1024.0)
>>> with axonic.amp.autocast("cpu"):
...     loss = model(axonic.ones(4, 2)).pow(2).mean()
>>> scaler.scale(loss).backward()
>>> scaler.step(opt)
>>> scaler.update()
>>> scaler.get_scale()
1024.0
"""

from axonic.amp.autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
)
from axonic.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]
