"""F.interpolate / nn.Upsample, PixelShuffle, the padding layers and RMSNorm against
PyTorch's same-named functions and layers: outputs and input gradients on the same inputs
(float64 to 1e-12, float32 to rounding), and their errors by name."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axonic
import axonic.nn.functional as F
from axonic import nn

RNG = np.random.default_rng(0)


def both(shape, dtype=np.float64):
    x = RNG.standard_normal(shape).astype(dtype)
    return axonic.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def assert_same(mine, theirs, x, tx, tol):
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=tol,
                               atol=tol)
    g = RNG.standard_normal(tuple(theirs.shape))
    mine.backward(axonic.tensor(g.astype(mine.detach().numpy().dtype)))
    theirs.backward(torch.tensor(g, dtype=theirs.dtype))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


CASES = [  # (input shape, keyword arguments of interpolate)
    ((2, 3, 5), dict(size=11)),
    ((2, 3, 5), dict(size=3)),
    ((2, 3, 5), dict(scale_factor=2.5)),
    ((2, 3, 5), dict(scale_factor=2.5, recompute_scale_factor=True)),
    ((1, 2, 4, 6), dict(scale_factor=2)),
    ((1, 2, 7, 6), dict(scale_factor=(0.5, 1.7))),
    ((1, 2, 4, 6), dict(size=(9, 4))),
    ((1, 2, 4, 6), dict(size=(4, 6))),
    ((1, 1, 3, 4, 5), dict(size=(6, 2, 7))),
    ((1, 1, 3, 4, 5), dict(scale_factor=1.5)),
]
MODES = {3: ["nearest", "nearest-exact", "linear", "area"],
         4: ["nearest", "nearest-exact", "bilinear", "area"],
         5: ["nearest", "nearest-exact", "trilinear"]}


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("shape, kw", CASES)
def test_interpolate_matches_torch_in_every_mode(shape, kw, dtype, tol):
    for mode in MODES[len(shape)]:
        corners = [None, False, True] if mode in ("linear", "bilinear", "trilinear") else [None]
        for align_corners in corners:
            if mode == "area" and "recompute_scale_factor" in kw:
                continue
            x, tx = both(shape, dtype)
            args = dict(kw, mode=mode, align_corners=align_corners)
            assert_same(F.interpolate(x, **args), TF.interpolate(tx, **args), x, tx, tol)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample")  # PyTorch's deprecation notes
def test_upsample_layers_match_torch():
    x, tx = both((2, 3, 5, 4))
    for mine, theirs in [
            (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
            (nn.Upsample(size=(7, 3), mode="bilinear"),
             torch.nn.Upsample(size=(7, 3), mode="bilinear")),
            (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(scale_factor=3)),
            (nn.UpsamplingBilinear2d(size=(8, 9)), torch.nn.UpsamplingBilinear2d(size=(8, 9)))]:
        x.grad, tx.grad = None, None
        assert_same(mine(x), theirs(tx), x, tx, 1e-12)
    for name in ("upsample", "upsample_nearest", "upsample_bilinear"):
        x.grad, tx.grad = None, None
        assert_same(getattr(F, name)(x, scale_factor=2), getattr(TF, name)(tx, scale_factor=2),
                    x, tx, 1e-12)


def test_pixel_shuffle_round_trip_and_torch():
    x, tx = both((2, 3, 18, 4, 5))  # extra leading dims are kept
    assert_same(nn.PixelShuffle(3)(x), torch.nn.PixelShuffle(3)(tx), x, tx, 0)
    y, ty = both((2, 2, 6, 9))
    assert_same(nn.PixelUnshuffle(3)(y), torch.nn.PixelUnshuffle(3)(ty), y, ty, 0)
    assert np.array_equal(F.pixel_shuffle(F.pixel_unshuffle(y, 3), 3).detach().numpy(),
                          y.detach().numpy())


PADS = [("ZeroPad", dict()), ("ConstantPad", dict(value=-1.5)), ("ReflectionPad", dict()),
        ("ReplicationPad", dict()), ("CircularPad", dict())]


@pytest.mark.parametrize("kind, kw", PADS)
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_padding_layers_match_torch_batched_and_unbatched(kind, kw, dims):
    name = f"{kind}{dims}d"
    padding = (2, 1, 0, 3, 1, 1)[:2 * dims]
    for batched in (True, False):
        shape = (2, 3)[2 - 1 - batched:] + (4, 5, 6)[:dims]  # every padded dim >= 4
        x, tx = both(shape)
        for p in (padding, 1):
            x.grad, tx.grad = None, None
            mine, theirs = getattr(nn, name)(p, **kw), getattr(torch.nn, name)(p, **kw)
            assert_same(mine(x), theirs(tx), x, tx, 1e-12)  # gradients: sums of a few


def test_negative_zero_padding_crops_as_torch():
    x, tx = both((1, 2, 5, 6))
    assert_same(nn.ZeroPad2d((-1, 2, 0, -2))(x), torch.nn.ZeroPad2d((-1, 2, 0, -2))(tx), x, tx, 0)


@pytest.mark.parametrize("eps", [None, 1e-5])
@pytest.mark.parametrize("shape, normalized", [((4, 7), 7), ((2, 3, 4, 5), (4, 5))])
def test_rms_norm_layer_matches_torch(shape, normalized, eps):
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        mine = nn.RMSNorm(normalized, eps=eps)
        theirs = torch.nn.RMSNorm(normalized, eps=eps, dtype=torch.float64 if dtype == np.float64
                                  else torch.float32)
        w = RNG.uniform(0.5, 1.5, theirs.weight.shape).astype(dtype)
        mine = mine.to(axonic.float64) if dtype == np.float64 else mine
        mine.weight.data = axonic.tensor(w)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
        x, tx = both(shape, dtype)
        assert_same(mine(x), theirs(tx), x, tx, tol)
        np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=tol, atol=tol)
    assert nn.RMSNorm(3, elementwise_affine=False).weight is None
    x, tx = both((3, 6))
    assert_same(F.rms_norm(x, (6,)), TF.rms_norm(tx, (6,)), x, tx, 1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.interpolate(axonic.ones(1, 1, 4), mode="bicubic", scale_factor=2), ValueError,
     "interpolate: mode must be one of nearest, nearest-exact, linear, bilinear, trilinear, "
     "area, got 'bicubic' (not implemented in axonic)"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4)), ValueError,
     "interpolate: give exactly one of size and scale_factor, got size=None, "
     "scale_factor=None"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4, 4), size=3, mode="linear"), ValueError,
     "interpolate: mode 'linear' takes a 3-d input, got shape (1, 1, 4, 4)"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4), size=3, align_corners=True), ValueError,
     "interpolate: align_corners can only be set with the linear modes (linear, bilinear, "
     "trilinear), not with mode 'nearest'"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4, 4), size=(3, 3, 3)), ValueError,
     "interpolate: size must be one int or 2 of them (one per spatial dim), got (3, 3, 3)"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4), scale_factor=0.1), ValueError,
     "interpolate: scale_factor 0.1 makes an empty output from the input's spatial shape (4,)"),
    (lambda: F.interpolate(axonic.ones(4, 4), size=2), ValueError,
     "interpolate: expected a 3-d, 4-d or 5-d input (N, C, *spatial), got shape (4, 4)"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4, dtype=axonic.int64), size=2), TypeError,
     "interpolate: expected a floating-point input, got int64"),
    (lambda: F.interpolate(axonic.ones(1, 1, 4), size=2, antialias=True), ValueError,
     "interpolate: antialias=True is not implemented in axonic"),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear")(axonic.ones(1, 2, 3)), ValueError,
     "Upsample: mode 'bilinear' takes a 4-d input, got shape (1, 2, 3)"),
    (lambda: nn.Upsample(mode="cubic", size=2), ValueError, "Upsample: mode must be one of"),
    (lambda: nn.Upsample(), ValueError, "Upsample: give exactly one of size and scale_factor"),
    (lambda: nn.PixelShuffle(2)(axonic.ones(1, 6, 2, 2)), ValueError,
     "PixelShuffle: expected an input (*, C * 4, H, W) whose channel dim divides by "
     "upscale_factor^2 = 4, got shape (1, 6, 2, 2)"),
    (lambda: nn.PixelUnshuffle(2)(axonic.ones(1, 1, 3, 4)), ValueError,
     "PixelUnshuffle: expected an input (*, C, H, W) whose H and W divide by "
     "downscale_factor = 2, got shape (1, 1, 3, 4)"),
    (lambda: F.pixel_shuffle(axonic.ones(1, 4, 2, 2), 0), ValueError,
     "pixel_shuffle: upscale_factor must be a positive int, got 0"),
    (lambda: nn.ZeroPad2d((1, 2, 3)), ValueError,
     "ZeroPad2d: padding must be an int or a tuple of 4 ints, got (1, 2, 3)"),
    (lambda: nn.ReflectionPad1d(-1), ValueError,
     "ReflectionPad1d: padding must be >= 0 for reflect padding, got -1"),
    (lambda: nn.ReflectionPad2d(1)(axonic.ones(5)), ValueError,
     "ReflectionPad2d: expected a 3-d (unbatched) or 4-d (batched) input, got shape (5,)"),
    (lambda: nn.ReflectionPad1d(3)(axonic.ones(1, 2, 3)), ValueError,
     "ReflectionPad1d: reflect padding (3, 3) must be smaller than the size 3 of dim 2"),
    (lambda: nn.RMSNorm(4)(axonic.ones(2, 5)), ValueError,
     "RMSNorm: expected input with trailing dimensions (4,), got shape (2, 5)"),
    (lambda: nn.RMSNorm(0), ValueError, "RMSNorm: normalized_shape must be positive ints, "
                                        "got 0"),
    (lambda: F.rms_norm(axonic.ones(2, 4), 4, eps=-1.0), ValueError,
     "rms_norm: eps must be a number >= 0 or None, got -1.0"),
    (lambda: F.rms_norm(axonic.ones(2, 4), 4, axonic.ones(3)), ValueError,
     "rms_norm: weight must have shape (4,), got (3,)"),
])
def test_errors_name_the_function_or_layer_and_the_value(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_an_upsampling_decoder_trains_and_exports_to_onnx(tmp_path):
    """A small conv decoder with Upsample, a padding layer and PixelShuffle: its loss falls,
    and the exported file gives its outputs in onnxruntime."""
    import onnxruntime as ort

    axonic.manual_seed(0)
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.ReflectionPad2d(1),
                          nn.Conv2d(2, 8, 3), nn.ReLU(), nn.PixelShuffle(2),
                          nn.Conv2d(2, 1, 1))
    x = axonic.randn(8, 2, 4, 4)
    target = F.interpolate(x[:, :1] - x[:, 1:], scale_factor=4, mode="bilinear")
    opt = axonic.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = F.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    model.eval()
    path = tmp_path / "decoder.onnx"
    axonic.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)
