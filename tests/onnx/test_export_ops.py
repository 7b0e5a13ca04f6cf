"""Ops beyond the layers: each exported inside a Linear-fed model runs in onnxruntime with
axonic's outputs, batch 1 and 7 through one file."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.onnx import OnnxExportError
from tests.onnx.test_export_models import check_batches, op_types

IDX = np.array([3, 0, 2])


class Fed(nn.Module):
    """``fn`` applied to Linear(6 -> 6) of the input (so the op is in the graph)."""

    def __init__(self, fn):
        super().__init__()
        self.fc, self.fn = nn.Linear(6, 6), fn

    def forward(self, x):
        return self.fn(self.fc(x))


OPS = {
    "CumSum": lambda t: t.cumsum(1),
    "ReduceLogSumExp": lambda t: t.logsumexp(1),
    "ReduceProd": lambda t: t.prod(1, keepdim=True),
    "ReduceL2": lambda t: t.norm(dim=1),
    "Div": lambda t: nn.functional.normalize(t, dim=1),
    "Einsum": lambda t: axonic.einsum("bi,bj->bij", t, t),
    "Pad": lambda t: nn.functional.pad(t, (1, 2), value=0.5),
    "Slice": lambda t: t.flip(1),
    "GatherElements": lambda t: t.gather(1, axonic.tensor(np.array([[1, 0, 5]]))),
    "Gather": lambda t: t[:, axonic.tensor(IDX)],
    "Clip": lambda t: t.clamp(-0.2, 0.3),
    "Trilu": lambda t: t.reshape(-1, 2, 3).triu(),
    "ReduceMax": lambda t: t.amax(1),
    "Where": lambda t: t.masked_fill(axonic.tensor(np.array([True, False] * 3)), -1.0),
}


@pytest.mark.parametrize("onnx_op", sorted(OPS))
def test_op_matches_onnxruntime(onnx_op):
    data = check_batches(Fed(OPS[onnx_op]), lambda b: axonic.randn(b, 6), {0: "batch"})
    assert onnx_op in op_types(data)


def test_boolean_mask_index_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'AdvancedIndex' in Fed: only one integer "
                                              r"array indexing one axis"):
        check_batches(Fed(lambda t: t[:, axonic.tensor(np.array([True, False] * 3))]),
                      lambda b: axonic.randn(b, 6), {0: "batch"})


def test_normalize_with_p_3_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'Normalize' in Fed: p=3.0: ONNX has "
                                              r"reductions for the 1- and 2-norm only"):
        check_batches(Fed(lambda t: nn.functional.normalize(t, p=3.0, dim=1)),
                      lambda b: axonic.randn(b, 6), {0: "batch"})


@pytest.mark.parametrize("fn", [
    lambda t: nn.functional.pad(t.reshape(-1, 2, 3), (2, 1, 1, 0), mode="reflect"),
    lambda t: nn.functional.pad(t.reshape(-1, 2, 3), (2, 1, 1, 0), mode="replicate"),
    lambda t: nn.functional.pad(t.reshape(-1, 2, 3), (2, 1, 1, 0), mode="circular"),
    lambda t: nn.functional.interpolate(t.reshape(-1, 1, 2, 3), scale_factor=(2, 1.5)),
    lambda t: nn.functional.interpolate(t.reshape(-1, 2, 3), size=7, mode="linear"),
    lambda t: nn.functional.interpolate(t.reshape(-1, 1, 2, 3), size=(5, 4), mode="bilinear",
                                        align_corners=True),
    lambda t: nn.functional.pixel_shuffle(t[:, :4].reshape(-1, 4, 1, 1).repeat(1, 1, 2, 3), 2),
], ids=["reflect", "replicate", "circular", "nearest", "linear", "bilinear", "pixel_shuffle"])
def test_padding_modes_and_resizing_export_as_gathers(fn):
    data = check_batches(Fed(fn), lambda b: axonic.randn(b, 6), {0: "batch"})
    assert "Gather" in op_types(data) or "Transpose" in op_types(data)
