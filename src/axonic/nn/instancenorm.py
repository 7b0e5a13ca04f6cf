"""Per-sample channel normalisations, PyTorch's: ``InstanceNorm1d/2d/3d`` (each channel of
each sample over its own positions; Ulyanov et al., 2016) with ``F.instance_norm``,
``LocalResponseNorm`` (each activation divided by its neighbouring channels' energy, as in
AlexNet) with ``F.local_response_norm``, and ``ChannelShuffle`` (ShuffleNet's interleaving
of channel groups) with ``F.channel_shuffle``. All are composed of differentiable ops.

>>> import axonic
>>> from axonic import nn
>>> y = nn.InstanceNorm2d(3)(axonic.randn(2, 3, 4, 4))
>>> bool(abs(y[0, 1].mean().item()) < 1e-6)
True
>>> nn.ChannelShuffle(2)(axonic.arange(4.0).reshape(1, 4, 1)).flatten().tolist()
[0.0, 2.0, 1.0, 3.0]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.nn.module import Module
from axonic.nn.normalization import _check_channels, _NormBase, batch_norm, group_norm


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of each sample over its positions, then a per-channel affine.
    With ``use_input_stats`` the running statistics (if given) move towards the instances'
    average (the variance unbiased), as PyTorch's; without it they are used instead."""
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *spatial), got "
                         f"shape {tuple(input.shape)}")
    c = input.shape[1]
    _check_channels("instance_norm", c, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        return batch_norm(input, running_mean, running_var, weight, bias, False, eps=eps)
    n = int(np.prod(input.shape[2:]))
    if n <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, "
                         f"got input of shape {tuple(input.shape)}")
    out = group_norm(input, c, weight, bias, eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            x = input.detach().reshape(input.shape[0], c, -1)
            mean = x.mean(2).mean(0)
            var = x.var(2, correction=1).mean(0)
            for stat, value in ((running_mean, mean), (running_var, var)):
                if stat is not None:
                    stat.mul_(1 - momentum).add_(value.to(stat.dtype) * momentum)
    return out


class _InstanceNorm(_NormBase):
    dims = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        d = self.dims
        if input.ndim not in (d + 1, d + 2):
            raise self.input_error(f"expected a {d + 1}-d (unbatched) or {d + 2}-d (batched) "
                                   f"input, got shape {tuple(input.shape)}")
        unbatched = input.ndim == d + 1
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features:
            raise self.input_error(f"expected {self.num_features} channels (dim "
                                   f"{0 if unbatched else 1}), got shape {tuple(input.shape)}")
        self.check_input_dtype(x, self.weight)
        use_input_stats = self.training or not self.track_running_stats
        try:
            y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats, self.momentum, self.eps)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("instance_norm: ")) from None
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` inputs."""
    dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` inputs."""
    dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs."""
    dims = 3


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0):
    """``x / (k + alpha / size * sum of x^2 over the size channels around it) ^ beta``,
    the window running from ``size // 2`` channels before to ``(size - 1) // 2`` after
    (zeros beyond the edges), as PyTorch's."""
    from axonic.ops.join import pad

    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    sq = (input * input).movedim(1, -1)  # channels last, where pad works
    sq = pad(sq, (size // 2, (size - 1) // 2))
    window = sq[..., 0:c]
    for i in range(1, size):
        window = window + sq[..., i:i + c]
    div = (window.movedim(-1, 1) * (alpha / size) + k) ** beta
    return input / div


class LocalResponseNorm(Module):
    """``F.local_response_norm`` as a layer (AlexNet's ``size=5, alpha=1e-4, beta=0.75,
    k=2``)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        try:
            return local_response_norm(input, self.size, self.alpha, self.beta, self.k)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("local_response_norm: ")) from None

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def channel_shuffle(input, groups: int):
    """``(N, g * n, *) -> (N, n * g, *)``: the channels of ``groups`` groups interleaved."""
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"channel_shuffle: groups must be a positive int, got {groups!r}")
    if input.ndim < 3 or input.shape[1] % groups:
        raise ValueError(f"channel_shuffle: expected input (N, C, *) with C divisible by "
                         f"groups={groups}, got shape {tuple(input.shape)}")
    n, c, *rest = input.shape
    y = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return y.reshape(n, c, *rest)


class ChannelShuffle(Module):
    """``F.channel_shuffle`` as a layer (ShuffleNet)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        try:
            return channel_shuffle(input, self.groups)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("channel_shuffle: ")) from None

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
