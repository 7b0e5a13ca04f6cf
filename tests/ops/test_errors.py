"""Every user-facing error names the op, the values received and what was expected."""

import numpy as np
import pytest

import axonic
from axonic.autograd import GradcheckError, gradcheck

A23, A4 = (2, 3), (4,)


@pytest.mark.parametrize("op,name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a ** b, "pow"),
    (axonic.maximum, "maximum"), (axonic.minimum, "minimum"),
    (axonic.remainder, "remainder"), (lambda a, b: a < b, "lt"), (lambda a, b: a == b, "eq"),
])
def test_broadcast_mismatch_names_op_and_both_shapes(op, name):
    a, b = axonic.ones(*A23), axonic.ones(*A4)
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot be "
                                         r"broadcast together \(sizes 3 and 4 differ at dim -1"):
        op(a, b)


def test_broadcast_mismatch_with_a_numpy_operand():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(2,\) cannot be broadcast"):
        axonic.ones(2, 3) + np.ones(2, np.float32)


def test_where_broadcast_mismatch():
    with pytest.raises(ValueError, match=r"where: shapes \(3,\) and \(2,\) cannot be broadcast"):
        axonic.where(axonic.tensor([True, False]), axonic.ones(3), axonic.ones(2))


def test_matmul_inner_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned: "
                                         r"the last dim of the first \(3\) must equal the "
                                         r"second-to-last dim of the second \(4\)"):
        axonic.ones(2, 3) @ axonic.ones(4, 5)


def test_matmul_vector_and_batch_mismatches():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4,\) are not aligned.*"
                                         r"the only dim of the second \(4\)"):
        axonic.matmul(axonic.ones(2, 3), axonic.ones(4))
    with pytest.raises(ValueError, match=r"matmul: batch dims of shapes \(2, 3, 4\) and "
                                         r"\(5, 4, 2\) cannot be broadcast"):
        axonic.ones(2, 3, 4) @ axonic.ones(5, 4, 2)
    with pytest.raises(ValueError, match=r"matmul: both operands need at least 1 dimension, "
                                         r"got shapes \(\) and \(3,\)"):
        axonic.tensor(1.0) @ axonic.ones(3)


def test_bmm_and_dot_check_dims():
    with pytest.raises(ValueError, match=r"bmm: expects two 3-d tensors, got shapes \(2, 3\)"):
        axonic.bmm(axonic.ones(2, 3), axonic.ones(3, 2))
    with pytest.raises(ValueError, match=r"dot: expects two 1-d tensors, got shapes \(2, 3\)"):
        axonic.dot(axonic.ones(2, 3), axonic.ones(3))


def test_unknown_device_lists_allowed():
    with pytest.raises(ValueError, match=r"unknown device 'tpu'; expected 'cpu', 'cuda' or "
                                         r"'cuda:N'"):
        axonic.zeros(2, device="tpu")
    with pytest.raises(ValueError, match=r"'tpu' is neither a device \(expected 'cpu', 'cuda'.*"
                                         r"nor a dtype \(expected one of"):
        axonic.ones(2).to("tpu")


def test_unknown_dtype_lists_allowed():
    with pytest.raises(TypeError, match=r"unsupported dtype 'complex64'; expected one of "
                                        r"\[.*'float32'.*'int64'.*\]"):
        axonic.zeros(2, dtype="complex64")
    with pytest.raises(TypeError, match=r"unsupported dtype 'floot32'"):
        axonic.tensor([1.0], dtype="floot32")


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match=r"only floating point tensors can require gradients, "
                                           r"got dtype int64"):
        axonic.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="got dtype bool"):
        axonic.tensor([True]).requires_grad_()


def test_requires_grad_cannot_be_switched_off_on_non_leaf():
    y = axonic.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only be switched off on a leaf tensor; use detach"):
        y.requires_grad = False


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.ones(2, 3).reshape(4), ValueError,
     r"reshape: shape \(4,\) is invalid for input of shape \(2, 3\) \(6 elements\)"),
    (lambda: axonic.ones(2, 3).view(-1, -1), ValueError, r"reshape: shape \(-1, -1\) is invalid"),
    (lambda: axonic.ones(2, 3).permute(0, 0), ValueError,
     r"permute: dims \(0, 0\) are not a permutation of 0..1"),
    (lambda: axonic.ones(2, 3).permute(0, 1, 2), ValueError,
     r"permute: got 3 dims \(0, 1, 2\) for a tensor with 2 dimensions"),
    (lambda: axonic.ones(2, 3).transpose(0, 2), IndexError,
     r"transpose: dim 2 is out of range for a tensor with 2 dimensions \(expected a value in "
     r"\[-2, 1\]\)"),
    (lambda: axonic.ones(2, 3).sum(3), IndexError, r"sum: dim 3 is out of range"),
    (lambda: axonic.ones(2).sum(1.5), TypeError, r"sum: dim must be an int or a tuple of ints, "
                                                 r"got 1.5"),
    (lambda: axonic.ones(2).sum(dim=0, axis=0), TypeError, "sum: pass dim or axis, not both"),
    (lambda: axonic.ones(2, 3).softmax(2), IndexError, r"softmax: dim 2 is out of range"),
    (lambda: axonic.ones(2, 3).squeeze(4), IndexError, r"squeeze: dim 4 is out of range"),
    (lambda: axonic.ones(2, 3).expand(4, 3), ValueError,
     r"expand: size 4 at dim 0 does not match the tensor's size 2 \(shape \(2, 3\) to "
     r"\(4, 3\)\)"),
    (lambda: axonic.ones(3).expand(-1, 3), ValueError,
     r"expand: sizes \(-1, 3\) for shape \(3,\): -1 keeps an existing dim's size and can't "
     r"be used for a new leading dim"),
    (lambda: axonic.ones(2, 3).expand(3), ValueError,
     r"expand: the number of sizes \(1\) must be at least the number of dimensions"),
    (lambda: axonic.ones(2, 3, 4).flatten(2, 1), ValueError,
     "flatten: start_dim 2 comes after end_dim 1"),
    (lambda: axonic.ones(2, 6).unflatten(1, (4, 2)), ValueError,
     r"unflatten: sizes \(4, 2\) do not multiply to the size 6 of dim 1"),
    (lambda: axonic.ones(2, 3).repeat(2), ValueError,
     r"repeat: number of repeats \(1\) must be >= the number of dimensions \(2\)"),
    (lambda: axonic.tril(axonic.ones(3)), ValueError, "tril: expects at least 2 dimensions, got 1"),
    (lambda: axonic.triu(axonic.ones(3)), ValueError, "triu: expects at least 2 dimensions, got 1"),
    (lambda: axonic.ones(2, 3, 4).t(), ValueError, r"t\(\): expects a tensor with <= 2 dim"),
    (lambda: axonic.ones(3).mT, ValueError, "mT: expects a tensor with at least 2 dimensions"),
])
def test_shape_op_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.cat([]), ValueError, "cat: expected a non-empty sequence of tensors"),
    (lambda: axonic.cat([axonic.ones(2, 3), axonic.ones(3, 4)], 1), ValueError,
     r"cat: tensor 0 has shape \(2, 3\) but tensor 1 has shape \(3, 4\); shapes must match "
     r"except in the concatenation dim 1"),
    (lambda: axonic.stack([axonic.ones(2, 3), axonic.ones(3, 2)]), ValueError,
     r"stack: tensor 0 has shape \(2, 3\) but tensor 1 has shape \(3, 2\); shapes must match"),
    (lambda: axonic.stack([axonic.ones(2), [1.0, 2.0]]), TypeError,
     "stack: expected tensors, got list"),
    (lambda: axonic.ones(5).split([2, 2]), ValueError,
     r"split: sizes \[2, 2\] sum to 4 but dim 0 has size 5"),
    (lambda: axonic.ones(5).split(0), ValueError, "split: split_size must be positive, got 0"),
    (lambda: axonic.ones(5).chunk(0), ValueError, "chunk: chunks must be positive, got 0"),
    (lambda: axonic.ones(2, 6).narrow(1, 5, 3), ValueError,
     "narrow: start 5 \\+ length 3 does not fit in dim 1 of size 6"),
    (lambda: axonic.pad(axonic.ones(2, 3), (1,)), ValueError,
     r"pad: expected an even number of values for at most 2 dims, got \(1,\)"),
    (lambda: axonic.pad(axonic.ones(2, 3), (1, 1), mode="wrap"), ValueError,
     "pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got 'wrap'"),
    (lambda: axonic.pad(axonic.ones(2, 3), (3, 1), mode="reflect"), ValueError,
     r"pad: reflect padding \(3, 1\) must be smaller than the size 3 of dim 1"),
])
def test_join_and_pad_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.ones(2, 3).gather(1, axonic.tensor([0, 1])), ValueError,
     "gather: index has 1 dims but input has 2; they must match"),
    (lambda: axonic.ones(2, 3).gather(1, axonic.tensor([[0], [5]])), IndexError,
     "gather: index 5 is out of range for dim 1 with size 3"),
    (lambda: axonic.ones(2, 3).gather(1, axonic.tensor([[0.0]])), TypeError,
     "gather: index must be an integer tensor, got float32"),
    (lambda: axonic.ones(2, 3).masked_fill(axonic.tensor([True, False]), 0.0), ValueError,
     r"masked_fill: mask of shape \(2,\) does not broadcast to the input's shape \(2, 3\)"),
    (lambda: axonic.ones(3).masked_fill(axonic.tensor([1, 0, 1]), 0.0), TypeError,
     "masked_fill: mask must be a bool tensor, got int64"),
    (lambda: axonic.where(axonic.tensor([1, 0]), axonic.ones(2), 0.0), TypeError,
     "where: condition must be a bool tensor, got int64"),
    (lambda: axonic.one_hot(axonic.tensor([0, 5]), 3), ValueError,
     "one_hot: class index 5 is out of range for num_classes=3"),
    (lambda: axonic.one_hot(axonic.tensor([1.0]), 3), TypeError,
     "one_hot: expects an integer tensor of class indices, got float32"),
    (lambda: axonic.ones(2, 3)[5], IndexError,
     r"index 5 into tensor of shape \(2, 3\): index 5 is out of bounds for axis 0 with size 2"),
    (lambda: axonic.ones(2, 3)[axonic.tensor([0.5])], IndexError,
     "tensors used as indices must be integer or bool, got float32"),
])
def test_indexing_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.einsum("ij,jk", axonic.ones(2, 3)), ValueError,
     "einsum: equation 'ij,jk' names 2 operands, got 1"),
    (lambda: axonic.einsum("ij,jk", axonic.ones(2, 3), axonic.ones(4, 2)), ValueError,
     "einsum: subscript 'j' has size 3 in one operand and 4 in another"),
    (lambda: axonic.einsum("ijk,jk", axonic.ones(2, 3), axonic.ones(3, 2)), ValueError,
     r"einsum: subscripts 'ijk' have 3 letters but the operand has 2 dims \(shape \(2, 3\)\)"),
    (lambda: axonic.einsum("ii->i", axonic.ones(2, 2)), ValueError,
     "einsum: repeated subscripts within one operand"),
    (lambda: axonic.einsum("ij", np.ones((2, 2))), TypeError,
     "einsum: operand 0 is ndarray, expected a Tensor"),
])
def test_einsum_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.ones(2).clamp(), ValueError, "clamp: at least one of min and max"),
    (lambda: axonic.tensor([1, 2]).mean(), TypeError,
     "mean: input dtype must be floating point, got int64; pass dtype=axonic.float32"),
    (lambda: axonic.ones(0).max(), RuntimeError, r"max\(\): cannot reduce an empty tensor"),
    (lambda: axonic.div(axonic.ones(2), 2, rounding_mode="up"), ValueError,
     "div: rounding_mode must be None, 'floor' or 'trunc', got 'up'"),
    (lambda: axonic.ones(2).item(), ValueError,
     r"item\(\) needs a tensor with one element, got shape \(2,\)"),
    (lambda: axonic.ones(2, requires_grad=True).numpy(), RuntimeError,
     r"can't call numpy\(\) on a tensor that requires grad; use tensor.detach\(\).numpy\(\)"),
    (lambda: bool(axonic.ones(2)), RuntimeError,
     "the truth value of a tensor with 2 elements is ambiguous"),
    (lambda: len(axonic.tensor(1.0)), TypeError, "len\\(\\) of a 0-d tensor"),
    (lambda: axonic.tensor(["a"]), TypeError, "tensor\\(\\): unsupported element type"),
    (lambda: axonic.tensor([[1, 2], [3]]), TypeError,
     "tensor\\(\\): could not build a tensor from list"),
    (lambda: axonic.ones(2).copy_(axonic.ones(3)), ValueError,
     r"copy_: source of shape \(3,\) does not broadcast to destination of shape \(2,\)"),
    (lambda: axonic.ones(2).add_(axonic.ones(3)), ValueError,
     r"add_: operand of shape \(3,\) does not broadcast to tensor of shape \(2,\)"),
    (lambda: axonic.ones(2, device="cuda:x"), ValueError, "unknown device 'cuda:x'"),
])
def test_value_and_conversion_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.zeros(-1), ValueError, r"zeros: sizes must be non-negative ints, got \(-1,\)"),
    (lambda: axonic.full((2, -1), 1.0), ValueError, "full: sizes must be non-negative ints"),
    (lambda: axonic.arange(0, 1, 0), ValueError, "arange: step must be non-zero"),
    (lambda: axonic.linspace(0, 1, -1), ValueError, "linspace: steps must be non-negative"),
    (lambda: axonic.rand(2, dtype=axonic.int64), TypeError,
     "rand: dtype must be floating point, got int64"),
    (lambda: axonic.randint(5, 2, (3,)), ValueError,
     r"randint: high \(2\) must be greater than low \(5\)"),
    (lambda: axonic.randint(5), TypeError, "randint: size is required"),
    (lambda: axonic.from_numpy([1, 2]), TypeError,
     "from_numpy: expected a numpy.ndarray, got list"),
    (lambda: axonic.set_default_dtype(axonic.int64), TypeError,
     "default dtype must be a floating dtype, got int64"),
    (lambda: axonic.manual_seed(-1), ValueError,
     "manual_seed: seed must be a non-negative integer, got -1"),
    (lambda: axonic.Generator().set_state({}), ValueError,
     r"set_state: expected a state dict from Generator.get_state\(\)"),
])
def test_creation_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: axonic.ones(3).topk(4), ValueError, r"topk: k \(4\) is out of range for dim -1 "
                                                 r"of size 3"),
    (lambda: axonic.ones(2, 3).roll((1, 2)), ValueError,
     r"roll: without dims, shifts must be one int, got \(1, 2\)"),
    (lambda: axonic.ones(2, 3).roll((1, 2), 0), ValueError, "roll: 2 shifts for 1 dims"),
    (lambda: axonic.ones(2, 3).diagonal(0, 1, 1), ValueError,
     "diagonal: dim1 and dim2 must differ, got 1 and 1"),
    (lambda: axonic.ones(2, 3, 4).trace(), ValueError, "trace: expects a 2-d tensor, got 3"),
    (lambda: axonic.ones(3).norm(-1), ValueError,
     "norm: p must be 'fro', inf, -inf or a positive number, got -1"),
    (lambda: axonic.outer(axonic.ones(2, 2), axonic.ones(2)), ValueError,
     r"outer: expects two 1-d tensors, got shapes \(2, 2\) and \(2,\)"),
    (lambda: axonic.ones(2, 3).masked_select(axonic.tensor([True, False])), ValueError,
     r"masked_select: shapes \(2, 3\) and \(2,\) cannot be broadcast"),
    (lambda: axonic.ones(2, 3).scatter(1, axonic.tensor([[0]]), 1.0, reduce="max"),
     ValueError, "scatter: reduce must be None or 'add', got 'max'"),
    (lambda: axonic.ones(2, 3).scatter(1, axonic.tensor([[0, 1]]), axonic.ones(1, 1)),
     ValueError, r"scatter: index shape \(1, 2\) exceeds src shape \(1, 1\)"),
    (lambda: axonic.ones(2, 3).scatter_add(1, axonic.tensor([[5]]), axonic.ones(1, 1)),
     IndexError, "scatter: index 5 is out of range for dim 1 with size 3"),
    (lambda: axonic.ones(2, 3).movedim((0, 1), 0), ValueError,
     "movedim: 2 source dims but 1 destinations"),
])
def test_further_op_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_gradcheck_errors():
    with pytest.raises(TypeError, match="gradcheck: inputs must be float64 .* got float32"):
        gradcheck(lambda x: x * 2, (axonic.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="gradcheck: no input tensor has requires_grad=True"):
        gradcheck(lambda x: x * 2, (axonic.ones(2),))


def test_gradcheck_catches_a_wrong_backward():
    class WrongExp(axonic.autograd.Function):
        def forward(self, x):
            self.out = np.exp(x)
            return self.out

        def backward(self, g):
            return g * self.out * 1.01

    x = axonic.tensor([0.5, 1.0], dtype=axonic.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"gradient of input 0 \(shape \(2,\)\) disagrees"):
        gradcheck(WrongExp.apply, (x,))
