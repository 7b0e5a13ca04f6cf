"""Tensor.type, the is_* flags, __format__ and bfloat16 answer as PyTorch's do."""

import numpy as np
import pytest
import torch

import axonic

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_type_name_matches_torch(dtype):
    ours = axonic.zeros(2, dtype=dtype).type()
    theirs = torch.zeros(2, dtype=getattr(torch, dtype)).type()
    assert ours.replace("axonic.", "torch.") == theirs


@pytest.mark.parametrize("target", ["torch.DoubleTensor", "axonic.LongTensor", "HalfTensor"])
def test_type_with_a_name_casts(target):
    x = axonic.tensor([1.5, -2.0])
    expected = torch.tensor([1.5, -2.0]).type(target.replace("axonic.", "torch.")
                                              if "." in target else "torch." + target)
    out = x.type(target)
    assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_type_with_a_dtype_casts_and_keeps_the_gradient():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.type(axonic.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_type_refuses_unknown_names():
    with pytest.raises(ValueError, match=r"Tensor.type: invalid type 'torch.WeirdTensor'"):
        axonic.ones(1).type("torch.WeirdTensor")


@pytest.mark.parametrize("flag", ["is_xpu", "is_mps", "is_meta", "is_sparse", "is_quantized",
                                  "is_mkldnn", "is_nested", "is_cpu", "is_cuda"])
def test_device_flags_match_torch_on_cpu(flag):
    assert getattr(axonic.ones(2), flag) == getattr(torch.ones(2), flag)


@pytest.mark.parametrize("name", ["is_complex", "is_signed", "is_floating_point",
                                  "ndimension", "nelement", "get_device", "is_inference"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8"])
def test_queries_match_torch(name, dtype):
    a, t = axonic.zeros(2, 3, dtype=dtype), torch.zeros(2, 3, dtype=getattr(torch, dtype))
    assert getattr(a, name)() == getattr(t, name)()


def test_sizes_match_torch():
    a, t = axonic.zeros(4, 5, dtype=axonic.float64), torch.zeros(4, 5, dtype=torch.float64)
    assert (a.itemsize, a.nbytes) == (t.itemsize, t.nbytes)
    assert a.is_same_size(axonic.ones(4, 5)) and not a.is_same_size(axonic.ones(5, 4))


def test_is_nonzero_matches_torch_and_refuses_many_elements():
    assert axonic.tensor([0.0]).is_nonzero() == torch.tensor([0.0]).is_nonzero()
    assert axonic.tensor(3).is_nonzero() == torch.tensor(3).is_nonzero()
    with pytest.raises(RuntimeError, match="is_nonzero: the tensor has 2 elements"):
        axonic.ones(2).is_nonzero()


@pytest.mark.parametrize(("value", "spec"), [(0.123456, ".4f"), (0.123456, ".2e"),
                                             (0.123456, ""), (-3.5, "8.3f"), (7, ">10"),
                                             (7, "d"), (True, "")])
def test_format_spec_on_a_0d_tensor_matches_torch(value, spec):
    assert format(axonic.tensor(value), spec) == format(torch.tensor(value), spec)


def test_format_of_a_vector_is_its_repr_and_a_spec_is_refused():
    assert f"{axonic.ones(2)}" == repr(axonic.ones(2))
    with pytest.raises(TypeError):
        format(axonic.ones(2), ".2f")
    with pytest.raises(TypeError):
        format(torch.ones(2), ".2f")


def test_bfloat16_round_trips_and_computes_elementwise():
    x = np.array([1.0, 2.5, -3.0078125, 1e-3], dtype=np.float32)
    b = axonic.tensor(x).to(axonic.bfloat16)
    tb = torch.tensor(x).to(torch.bfloat16)
    assert b.dtype == axonic.bfloat16 and b.type() == "axonic.BFloat16Tensor"
    np.testing.assert_array_equal(b.float().numpy(), tb.float().numpy())
    np.testing.assert_array_equal((b * b + b).float().numpy(), (tb * tb + tb).float().numpy())
    np.testing.assert_array_equal(axonic.tensor(x).bfloat16().float().numpy(),
                                  torch.tensor(x).bfloat16().float().numpy())
    assert axonic.zeros(2, dtype="bfloat16").dtype == axonic.bfloat16
