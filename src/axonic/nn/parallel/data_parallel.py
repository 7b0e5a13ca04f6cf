"""``DataParallel``: PyTorch's single-process multi-GPU wrapper, on one device.

axonic runs a module on the device its parameters are on and scales out with
``DistributedDataParallel`` (one process per device), so ``DataParallel`` wraps the module
and calls it: programs that write ``model = nn.DataParallel(model)`` run unchanged, the
state dict gains PyTorch's ``module.`` prefix and ``model.module`` is the wrapped module.
"""

from __future__ import annotations

from axonic.nn.module import Module


class DataParallel(Module):
    """Wrap ``module`` as ``torch.nn.DataParallel`` does, computing on one device.

    >>> import axonic
    >>> model = DataParallel(axonic.nn.Linear(2, 1))
    >>> list(model.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an axonic.nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """``module(*inputs, **module_kwargs)``: the functional form of ``DataParallel``."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))
