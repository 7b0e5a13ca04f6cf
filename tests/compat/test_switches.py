"""torch.backends / torch.accelerator / inference_mode / _assert: PyTorch's answers on CPU."""

import pytest
import torch

import axonic


def test_backends_flags_are_settable_with_torch_defaults():
    import axonic.backends.cudnn as cudnn

    assert cudnn.benchmark == torch.backends.cudnn.benchmark
    assert cudnn.deterministic == torch.backends.cudnn.deterministic
    assert axonic.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    try:
        axonic.backends.cudnn.benchmark = True
        axonic.backends.cudnn.deterministic = True
        axonic.backends.cudnn.allow_tf32 = False
        axonic.backends.cuda.matmul.allow_tf32 = True
        assert axonic.backends.cudnn.benchmark and axonic.backends.cudnn.deterministic
        assert axonic.backends.cuda.matmul.allow_tf32 and not cudnn.allow_tf32
    finally:
        cudnn.benchmark = cudnn.deterministic = False
        cudnn.allow_tf32 = True
        axonic.backends.cuda.matmul.allow_tf32 = False


def test_backends_availability_answers():
    assert axonic.backends.mps.is_available() is False
    assert axonic.backends.mps.is_built() is False
    assert axonic.backends.cudnn.is_available() is False
    assert axonic.backends.cpu.get_cpu_capability() == "DEFAULT"


def test_accelerator_matches_cuda_availability():
    available = axonic.backend.cuda_is_available()
    assert axonic.accelerator.is_available() is available
    expected = axonic.device("cuda") if available else None
    assert axonic.accelerator.current_accelerator() == expected
    assert (axonic.accelerator.device_count() > 0) is available
    axonic.accelerator.synchronize()
    if not available and not torch.accelerator.is_available():  # both CPU-only: same answer
        assert torch.accelerator.current_accelerator() is None


def test_inference_mode_stops_recording_as_context_and_decorator():
    x = axonic.ones(3, requires_grad=True)
    with axonic.inference_mode():
        assert not (x * 2).requires_grad
        assert axonic.is_inference_mode_enabled()
    assert (x * 2).requires_grad and not axonic.is_inference_mode_enabled()

    @axonic.inference_mode()
    def called(t):
        return t * 2

    @axonic.inference_mode
    def bare(t):
        return t * 2

    assert not called(x).requires_grad and not bare(x).requires_grad
    with axonic.inference_mode(False):
        assert (x * 2).requires_grad


def test_assert_raises_with_the_message():
    axonic._assert(True, "unused")
    with pytest.raises(AssertionError, match="sequence too long"):
        axonic._assert(False, "sequence too long")
    with pytest.raises(AssertionError, match="sequence too long"):
        torch._assert(False, "sequence too long")
