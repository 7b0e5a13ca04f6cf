"""axonic.onnx.export refuses what it cannot write with one clear message: the op and the
module path, the argument and the value received, and what was expected."""

import io
import sys

import pytest

import axonic
from axonic import nn
from axonic.onnx import OnnxExportError


def export(model, args, **kw):
    axonic.onnx.export(model, args, io.BytesIO(), **kw)


class Rolled(nn.Module):
    def forward(self, x):
        return x.roll(1, 1)


class Positive(nn.Module):
    def forward(self, x):
        return x * (x > 0)  # a comparison: outside autograd


class Ramp(nn.Module):
    def forward(self, x):
        return x + axonic.linspace(0, 1, x.shape[1])


class Branching(nn.Module):
    def forward(self, x):
        return x.exp() if x.shape[0] > 2 else x.tanh()


class SumOverBatchDependentAxis(nn.Module):
    def forward(self, x):
        return x.sum(x.shape[0] - 1)


def test_op_without_onnx_mapping_names_the_op_and_the_module_path():
    model = nn.Sequential(nn.Linear(3, 3), Rolled())
    with pytest.raises(OnnxExportError, match=r"op 'Roll' in 1 \(Rolled\): has no ONNX "
                                              r"mapping"):
        export(model, axonic.randn(2, 3))


def test_value_computed_from_the_input_outside_autograd_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'Mul' in Positive: reads a tensor that was "
                                              r"computed from the model's inputs outside"):
        export(Positive(), axonic.randn(4, 5))


def test_constant_sized_by_a_dynamic_axis_with_varying_values_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'Add' in Ramp: reads a constant of "
                                              r"shape \(3,\) whose size follows a dynamic axis"):
        export(Ramp(), axonic.randn(2, 3), input_names=["x"],
               dynamic_axes={"x": {1: "seq"}})


def test_graph_that_changes_with_the_batch_size_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'Tanh' in Branching: the model runs "
                                              r"different ops when the dynamic axes change"):
        export(Branching(), axonic.randn(2, 3), input_names=["x"],
               dynamic_axes={"x": {0: "batch"}})


def test_option_that_depends_on_a_dynamic_size_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'Sum' in SumOverBatchDependentAxis: its "
                                              r"option axes=\(1,\) depends on the size"):
        export(SumOverBatchDependentAxis(), axonic.randn(2, 3, 3, 3), input_names=["x"],
               dynamic_axes={"x": {0: "batch"}})


def test_output_computed_outside_autograd_is_refused_by_name():
    model = nn.MaxPool2d(2, return_indices=True)  # the indices are integers, not traced
    with pytest.raises(OnnxExportError, match=r"axonic.onnx.export: output 'indices': reads "
                                              r"a tensor that was computed from the model's"):
        export(model, axonic.randn(1, 2, 4, 4), output_names=["values", "indices"])


def test_batch_norm_without_running_statistics_is_refused():
    model = nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(OnnxExportError, match=r"op 'BatchNorm' in 0 \(BatchNorm1d\): uses "
                                              r"the batch's statistics"):
        export(model, axonic.randn(4, 3))


def test_average_pool_divisor_override_is_refused():
    with pytest.raises(OnnxExportError, match="divisor_override=3 has no ONNX AveragePool"):
        export(nn.AvgPool2d(2, divisor_override=3), axonic.randn(1, 1, 4, 4))


def test_adaptive_pool_with_uneven_windows_is_refused():
    with pytest.raises(OnnxExportError, match=r"output size \(3, 3\) does not divide the "
                                              r"input size \(4, 4\)"):
        export(nn.AdaptiveAvgPool2d(3), axonic.randn(1, 1, 4, 4))


def test_adaptive_pool_on_a_dynamic_height_is_refused():
    with pytest.raises(OnnxExportError, match=r"output size \(2, 2\) needs a static input "
                                              r"size"):
        export(nn.AdaptiveAvgPool2d(2), axonic.randn(1, 1, 4, 4), input_names=["x"],
               dynamic_axes={"x": {2: "h"}})


@pytest.mark.parametrize("args, message", [
    ([1, 2], r"args\[0\] is a list; expected an axonic Tensor"),
    ((), "args is empty; give the example input"),
])
def test_bad_example_inputs(args, message):
    with pytest.raises(OnnxExportError, match=message):
        export(nn.Linear(3, 3), args)


@pytest.mark.parametrize("kw, message", [
    (dict(opset_version=11), r"opset_version=11; expected an int from 17 to \d+"),
    (dict(input_names="x"), "input_names must be a list of strings, got 'x'"),
    (dict(input_names=["a", "b"]), r"input_names=\['a', 'b'\] names 2 values, but the model "
                                   r"has 1 input\(s\)"),
    (dict(output_names=["y", "y"]), r"output_names=\['y', 'y'\] names 2 values, but the "
                                    r"model has 1 output\(s\) \(names must be unique\)"),
    (dict(input_names=["v"], output_names=["v"]), r"\['v'\] name both an input and an "
                                                    r"output"),
    (dict(dynamic_axes={"z": {0: "b"}}), r"dynamic_axes names 'z', which is neither an "
                                         r"input \['input_0'\] nor an output"),
    (dict(input_names=["x"], dynamic_axes={"x": {5: "b"}}),
     r"dynamic_axes\['x'\] names axis 5, but the input has shape \(2, 3\)"),
    (dict(input_names=["x"], dynamic_axes={"x": "b"}),
     r"dynamic_axes\['x'\] must be a list of axes or a dict \{axis: 'label'\}, got 'b'"),
    (dict(dynamic_axes=[1]), "dynamic_axes must be a dict .* got list"),
])
def test_bad_arguments_are_named_with_the_value_received(kw, message):
    with pytest.raises(OnnxExportError, match=message):
        export(nn.Linear(3, 3), axonic.randn(2, 3), **kw)


def test_missing_onnx_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'axonic\[onnx\]'"):
        export(nn.Linear(3, 3), axonic.randn(2, 3))


def test_dynamic_axes_as_a_list_gets_generated_labels():
    import onnx

    buf = io.BytesIO()
    axonic.onnx.export(nn.Linear(3, 2), axonic.randn(2, 3), buf, input_names=["x"],
                       dynamic_axes={"x": [0]})
    dim = onnx.load_from_string(buf.getvalue()).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "x_dynamic_axes_1"


class TwoDerivedDims(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0] * 2, x.shape[1] * 2, 1)


class SliceBeyondTheBatch(nn.Module):
    def forward(self, x):
        return axonic.cat([x, x])[: x.shape[0] + 1]


def test_reshape_with_two_sizes_derived_from_dynamic_axes_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'Reshape' in TwoDerivedDims: the output "
                                              r"shape \(\?, \?, 1\) has more than one dim"):
        export(TwoDerivedDims(), axonic.randn(2, 3, 4), input_names=["x"],
               dynamic_axes={"x": {0: "batch", 1: "seq"}})


def test_slice_bound_that_moves_with_the_batch_in_no_fixed_way_is_refused():
    with pytest.raises(OnnxExportError, match=r"op 'BasicIndex' in SliceBeyondTheBatch: an "
                                              r"index \(3 here\) depends on the size"):
        export(SliceBeyondTheBatch(), axonic.randn(2, 3), input_names=["x"],
               dynamic_axes={"x": {0: "batch"}})
