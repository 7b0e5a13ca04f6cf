import numpy as np
import pytest

import axonic
from axonic.data.transforms import (
    CenterCrop,
    Compose,
    Lambda,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
    ToTensor,
    forward_matrices,
    sample_grid,
    using_generator,
)
from tests.conftest import requires_torch, torch


def _batch(n=2, c=3, h=4, w=5):
    return np.random.rand(n, c, h, w).astype(np.float32)


def test_flip_reverses_columns_and_rows():
    x = _batch()
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(RandomVerticalFlip(p=1.0)(x), x[..., ::-1, :])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x), x)


def test_flip_is_per_image_and_follows_the_generator():
    x = _batch(n=200, c=1, h=1, w=2)
    out = RandomHorizontalFlip(p=0.5)(x, axonic.Generator().manual_seed(1))
    flipped = (out != x).any(axis=(1, 2, 3))
    assert 60 < flipped.sum() < 140
    again = RandomHorizontalFlip(p=0.5)(x, axonic.Generator().manual_seed(1))
    np.testing.assert_array_equal(out, again)
    with using_generator(axonic.Generator().manual_seed(1)):  # as a DataLoader sets it
        np.testing.assert_array_equal(RandomHorizontalFlip(p=0.5)(x), out)


def test_tensor_in_tensor_out_and_single_image():
    t = axonic.tensor(_batch())
    out = RandomHorizontalFlip(p=1.0)(t)
    assert isinstance(out, axonic.Tensor)
    np.testing.assert_array_equal(out.numpy(), t.numpy()[..., ::-1])
    img = _batch(n=1)[0]
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(img), img[..., ::-1])


@pytest.mark.parametrize("k,angle", [(1, 90), (2, 180), (3, 270), (3, -90)])
def test_rotation_by_right_angles_with_nearest_equals_rot90(k, angle):
    x = _batch(c=2, h=5, w=5)
    out = RandomRotation((angle, angle))(x)
    np.testing.assert_array_equal(out, np.rot90(x, k, axes=(2, 3)))
    even = _batch(c=1, h=4, w=4)
    np.testing.assert_array_equal(RandomRotation((angle, angle), interpolation="bilinear")(even),
                                  np.rot90(even, k, axes=(2, 3)))


def test_zero_rotation_is_identity_and_fill_outside():
    x = _batch()
    np.testing.assert_array_equal(RandomRotation(0)(x), x)
    wide = np.ones((1, 1, 3, 7), np.float32)  # a 90 degree turn leaves the corners empty
    out = RandomRotation((90, 90), fill=-1.0)(wide)
    assert (out[0, 0, :, 0] == -1).all() and (out[0, 0, :, 3] == 1).all()


def test_affine_translation_shifts_whole_pixels():
    x = _batch(n=1, c=1, h=6, w=6)
    t = RandomAffine(degrees=0, translate=(0.5, 0.0))
    for seed in range(20):
        g = axonic.Generator().manual_seed(seed)  # replay the draws: angle, then shifts
        g.uniform(0.0, 0.0, (1,), dtype=np.float64)
        tx = int(np.round(g.uniform(-3.0, 3.0, (1,), dtype=np.float64)[0]))
        if tx:
            break
    out = t(x, axonic.Generator().manual_seed(seed))
    expected = np.zeros_like(x)
    if tx > 0:
        expected[..., tx:] = x[..., :-tx]
    else:
        expected[..., :tx] = x[..., -tx:]
    np.testing.assert_array_equal(out, expected)


def test_affine_scale_about_the_centre():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 3] = 1.0  # one pixel right of centre
    out = RandomAffine(degrees=0, scale=(2.0, 2.0))(x)
    # scaling by 2 about (2, 2): the pixel moves to column 4; nearest fills columns 4 only
    assert out[0, 0, 2, 4] == 1.0 and out[0, 0, 2, 3] == 0.0


@requires_torch
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_sampling_grid_matches_torch_grid_sample(mode):
    x = np.random.rand(3, 2, 6, 8).astype(np.float32)
    angles, scales, shears = np.array([20.0, -35.0, 60.0]), np.array([0.8, 1.1, 1.3]), \
        np.array([[10.0, 0.0], [-5.0, 3.0], [0.0, 0.0]])
    fwd = forward_matrices(angles, scales, shears)
    inv = np.linalg.inv(fwd)
    offsets = np.array([[1.0, -2.0], [0.0, 1.0], [-1.0, 0.0]])
    h, w = 6, 8
    cx, cy = (w - 1) / 2, (h - 1) / 2
    from axonic.data.transforms import affine_grid

    ys, xs = affine_grid(inv, offsets, (h, w), (cx, cy))
    ours = sample_grid(x, ys, xs, mode)
    # the same map in grid_sample's normalised coordinates (align_corners=True)
    d = np.diag([cx, cy])
    theta = np.linalg.inv(d) @ inv @ d
    shift = -(inv @ offsets[:, :, None])[:, :, 0] / np.array([cx, cy])
    theta = np.concatenate([theta, shift[:, :, None]], axis=2)
    grid = torch.nn.functional.affine_grid(torch.from_numpy(theta), (3, 2, h, w),
                                           align_corners=True)
    ref = torch.nn.functional.grid_sample(torch.from_numpy(x).double(), grid, mode=mode,
                                          padding_mode="zeros", align_corners=True)
    if mode == "bilinear":
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-6)
    else:  # ties at exactly .5 may round differently; allow none here (random angles)
        np.testing.assert_array_equal(ours, ref.numpy().astype(np.float32))


def test_random_crop_with_padding_keeps_size_and_takes_windows():
    x = _batch(n=16, c=2, h=6, w=6)
    out = RandomCrop(6, padding=2)(x, axonic.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for n in range(16):
        found = [(i, j) for i in range(5) for j in range(5)
                 if np.array_equal(padded[n, :, i:i + 6, j:j + 6], out[n])]
        assert found
        offsets.add(found[0])
    assert len(offsets) > 3  # each image gets its own offset


def test_random_crop_modes_and_errors():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    assert RandomCrop(2)(x).shape == (1, 1, 2, 2)
    edge = RandomCrop(5, padding=1, padding_mode="edge")(x)
    np.testing.assert_array_equal(edge[0, 0], np.pad(x[0, 0], 1, mode="edge"))
    assert RandomCrop(5, pad_if_needed=True)(x).shape == (1, 1, 5, 5)
    with pytest.raises(ValueError, match=r"crop size \(4, 4\) is larger than the \(padded\) "
                                         r"input \(3, 3\)"):
        RandomCrop(4)(x)
    with pytest.raises(ValueError, match="padding_mode must be"):
        RandomCrop(2, padding_mode="wrap")


def test_center_crop_and_resize():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(CenterCrop(2)(x)[0, 0], [[5, 6], [9, 10]])
    np.testing.assert_array_equal(Resize(4)(x), x)
    np.testing.assert_allclose(Resize(2)(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    up = Resize((8, 8), interpolation="nearest")(x)
    np.testing.assert_array_equal(up[0, 0], np.repeat(np.repeat(x[0, 0], 2, 0), 2, 1))


@requires_torch
def test_resize_bilinear_matches_torch_interpolate():
    x = np.random.rand(2, 3, 5, 7).astype(np.float32)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=(9, 4), mode="bilinear",
                                          align_corners=False)
    np.testing.assert_allclose(Resize((9, 4))(x), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_normalize_matches_formula():
    x = _batch(c=3)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    ref = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None,
                                                                                      None]
    np.testing.assert_allclose(Normalize(mean, std)(x), ref, rtol=1e-6)
    t = Normalize(mean, std)(axonic.tensor(x))
    assert isinstance(t, axonic.Tensor) and t.dtype == np.float32
    y = x.copy()
    Normalize(mean, std, inplace=True)(y)
    np.testing.assert_allclose(y, ref, rtol=1e-6)
    with pytest.raises(ValueError, match=r"got 2 values for mean but the input has 3 channels"):
        Normalize([0.0, 0.0], [1.0])(x)
    with pytest.raises(ValueError, match="division by zero"):
        Normalize([0.0], [0.0])
    with pytest.raises(TypeError, match="expected a float batch"):
        Normalize([0.0], [1.0])(np.zeros((1, 1, 2, 2), np.uint8))


def test_to_tensor_converts_uint8_hwc():
    img = np.random.randint(0, 256, (4, 5, 3), dtype=np.uint8)
    t = ToTensor()(img)
    assert isinstance(t, axonic.Tensor) and t.shape == (3, 4, 5) and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    batch = ToTensor()(np.stack([img, img]))
    assert batch.shape == (2, 3, 4, 5)
    assert ToTensor()(img[:, :, 0]).shape == (1, 4, 5)
    with pytest.raises(TypeError, match="expected uint8, bool or float pixels, got int32"):
        ToTensor()(img.astype(np.int32))


def test_compose_and_lambda():
    x = _batch()
    t = Compose([RandomHorizontalFlip(1.0), Lambda(lambda a: a * 2), Normalize([1.0], [2.0])])
    np.testing.assert_allclose(t(x), (x[..., ::-1] * 2 - 1) / 2, rtol=1e-6)
    assert "RandomHorizontalFlip" in repr(RandomHorizontalFlip(0.3))


def test_argument_and_shape_errors():
    with pytest.raises(ValueError, match=r"expected a batch \(N, C, H, W\).*got shape \(4, 5\)"):
        RandomHorizontalFlip()(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="p must be a probability in"):
        RandomHorizontalFlip(p=2)
    with pytest.raises(ValueError, match="degrees must be a number or a pair"):
        RandomRotation((10, 5))
    with pytest.raises(ValueError, match="translate must be a pair of fractions"):
        RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        RandomAffine(0, interpolation="cubic")
    with pytest.raises(ValueError, match="expand=True would change the image size"):
        RandomRotation(10, expand=True)


def test_uint8_images_keep_their_dtype():
    img = np.random.randint(0, 256, (2, 3, 6, 6), dtype=np.uint8)
    for t in (RandomRotation((30, 30), interpolation="bilinear"), RandomRotation((30, 30)),
              Resize(4), RandomCrop(4, padding=1), RandomHorizontalFlip(1.0)):
        out = t(img)
        assert out.dtype == np.uint8, type(t).__name__
    ref = RandomRotation((30, 30), interpolation="bilinear")(img.astype(np.float32))
    out = RandomRotation((30, 30), interpolation="bilinear")(img)
    np.testing.assert_array_equal(out, np.clip(np.rint(ref), 0, 255).astype(np.uint8))
