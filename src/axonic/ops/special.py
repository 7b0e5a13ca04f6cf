"""Elementwise special functions and activations: ``erf`` and the activation ops
``gelu``, ``silu``, ``elu``, ``leaky_relu``, ``softplus``, ``prelu``.

NumPy has no ``erf``; ours follows the rational approximations of fdlibm's ``s_erf.c``
(Sun Microsystems, 1993), evaluated branch by branch on whole arrays. It agrees with
``math.erf`` to about one ulp in float64.
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec

# --- erf: fdlibm's approximations, coefficients in ascending powers ------------------------
_EFX = 1.28379167095512586316e-01  # 2/sqrt(pi) - 1
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to single precision
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _poly(z, coeffs):
    acc = coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * z + c
    return acc


def _erf_parts(a, xp):
    """erf(a) and erfc(a) of a float64 array, each to about an ulp."""
    ax = xp.abs(a)
    erf = xp.empty_like(a)
    erfc = xp.empty_like(a)
    small = ax < 0.84375
    mid = (ax >= 0.84375) & (ax < 1.25)
    tail = (ax >= 1.25) & (ax < 28.0)
    if small.any():
        s = a[small]
        z = s * s
        v = s + s * (_poly(z, _PP) / _poly(z, _QQ))
        erf[small] = v
        erfc[small] = 1.0 - v
    if mid.any():
        s = ax[mid] - 1.0
        pq = _poly(s, _PA) / _poly(s, _QA)
        neg = a[mid] < 0
        erf[mid] = xp.where(neg, -(_ERX + pq), _ERX + pq)
        erfc[mid] = xp.where(neg, 1.0 + _ERX + pq, (1.0 - _ERX) - pq)
    if tail.any():
        t = ax[tail]
        s = 1.0 / (t * t)
        near = t < 1 / 0.35
        r = xp.where(near, _poly(s, _RA), _poly(s, _RB))
        q = xp.where(near, _poly(s, _SA), _poly(s, _SB))
        # t split as hi + lo with hi's low 32 bits cleared, so -t*t is exact in two parts
        hi = (t.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
        upper = xp.exp(-hi * hi - 0.5625) * xp.exp((hi - t) * (hi + t) + r / q) / t
        neg = a[tail] < 0
        erf[tail] = xp.where(neg, upper - 1.0, 1.0 - upper)
        erfc[tail] = xp.where(neg, 2.0 - upper, upper)
    big = ax >= 28.0
    if big.any():
        neg = a[big] < 0
        erf[big] = xp.where(neg, -1.0, 1.0)
        erfc[big] = xp.where(neg, 2.0, 0.0)
    nan = xp.isnan(a)
    if nan.any():
        erf[nan] = np.nan
        erfc[nan] = np.nan
    return erf, erfc


def _f64(x, xp):
    return xp.asarray(x, dtype=np.float64)


def erf_array(x):
    """``erf`` of a float array (NumPy or CuPy), computed in float64, returned in x's dtype."""
    xp = get_array_module(x)
    out = _erf_parts(_f64(x, xp), xp)[0]
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


def erfc_array(x):
    """``erfc = 1 - erf`` without cancellation for large x (NumPy or CuPy)."""
    xp = get_array_module(x)
    out = _erf_parts(_f64(x, xp), xp)[1]
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


# Chebyshev fit of log(erfc(z) / t) - (-z^2), t = 1 / (1 + z/2), z >= 0 (Numerical Recipes'
# erfcc): fractional error below 1.2e-7 everywhere, with no branches.
_ERFCC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
          -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _normal_cdf_float32(x):
    xp = get_array_module(x)
    z = xp.abs(x) * x.dtype.type(_INV_SQRT2)
    t = 1 / (1 + 0.5 * z)
    half = 0.5 * t * xp.exp(_poly(t, _ERFCC) - z * z)  # erfc(|x|/sqrt2) / 2 = Phi(-|x|)
    # Phi(x) = half for x < 0, 1 - half for x >= 0 (arithmetic select: np.where is slow)
    return half + (x >= 0) * (1 - 2 * half)


def normal_cdf_array(x):
    """``Phi(x) = erfc(-x / sqrt 2) / 2``, accurate in relative terms in both tails: to
    float64 precision for float64 inputs, to ~1e-6 for float32 (computed in float32)."""
    if x.dtype == np.float32:
        return _normal_cdf_float32(x)
    xp = get_array_module(x)
    out = 0.5 * _erf_parts(_f64(x, xp) * -_INV_SQRT2, xp)[1]
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class Erf(Function):
    onnx_op = "Erf"

    def forward(self, x):
        self.save_for_backward(x)
        return erf_array(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (_TWO_OVER_SQRT_PI * self.xp.exp(-x * x))


class Erfc(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return erfc_array(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (-_TWO_OVER_SQRT_PI * self.xp.exp(-x * x))


# --- functional forms (``inplace`` is accepted for PyTorch compatibility; results are new
# tensors, since autograd here records out-of-place ops) --------------------------------------
def _float(x: Tensor) -> Tensor:
    return x.to(get_default_dtype()) if x._data.dtype.kind in "biu" else x


@op()
def erf(input):
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    >>> import axonic
    >>> round(erf(axonic.tensor([1.0], dtype=axonic.float64)).item(), 12)
    0.84270079295
    """
    return Erf.apply(_float(input))


@op()
def erfc(input):
    """``1 - erf(x)``, precise where erf is close to 1."""
    return Erfc.apply(_float(input))


# --- specs ---------------------------------------------------------------------------------
def _np_erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _erf_points(r):
    # every branch of the approximation: small, near 1, both tails, beyond 6
    return (np.array([0.0, 1e-30, -0.3, 0.84, -0.9, 1.1, -1.3, 2.0, -2.9, 3.5, 5.9, -6.5, 27.0]),)


SPECS = [
    OpSpec("erf", erf, _np_erf, [((3, 4),), _erf_points, ((0,),)],
           lambda a: TORCH.erf(a)),
    OpSpec("erfc", erfc, lambda a: 1 - _np_erf(a), [((3, 4),), _erf_points],
           lambda a: TORCH.erfc(a)),
]
