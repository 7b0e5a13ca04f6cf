"""``axonic export RUN --format onnx --out model.onnx``: a trained run as an ONNX file.

    axonic export runs/cnn_digits --format onnx --out digits.onnx [--opset 17]

The file takes raw samples as ``axonic predict`` reads them (the training set's
standardisation, when the run used one, is part of the graph), any batch size (input
``input``, output ``output``, axis 0 named ``batch``), and gives the model's outputs.
"""

from __future__ import annotations

import numpy as np

FORMATS = ("onnx",)


def add_parser(sub) -> None:
    e = sub.add_parser("export", help="write a trained run's model as an ONNX file")
    e.add_argument("run_dir")
    e.add_argument("--format", choices=FORMATS, default="onnx", help="the file format")
    e.add_argument("--out", default="model.onnx", help="the file to write")
    e.add_argument("--opset", type=int, default=17, help="the ONNX opset version")


def with_preprocessing(model, preprocess: dict):
    """``model`` preceded by the run's standardisation (if it has one)."""
    import axonic
    from axonic import nn

    st = preprocess.get("standardize")
    if not st:
        return model
    dtype = np.dtype(preprocess["input_dtype"])

    class Standardized(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.register_buffer("mean", axonic.tensor(np.asarray(st["mean"], dtype)))
            self.register_buffer("std", axonic.tensor(np.asarray(st["std"], dtype)))

        def forward(self, x):
            return self.model((x - self.mean) / self.std)

    return Standardized()


def cmd_export(args) -> int:
    import axonic
    from axonic.cli.config import ConfigError
    from axonic.cli.main import _load_run
    from axonic.onnx import OnnxExportError

    _, pre, model = _load_run(args.run_dir)
    shape = tuple(pre["input_shape"])
    example = np.random.default_rng(0).standard_normal((2, *shape))
    example = axonic.tensor(example.astype(pre["input_dtype"]))
    try:
        axonic.onnx.export(with_preprocessing(model, pre), example, args.out,
                           input_names=["input"], output_names=["output"],
                           dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                           opset_version=args.opset)
    except OnnxExportError as e:
        raise ConfigError(str(e)) from None
    print(f"wrote {args.out} (ONNX opset {args.opset}; input 'input' of shape "
          f"(batch, {', '.join(map(str, shape))}), output 'output')")
    return 0
