"""``axonic explain RUN_DIR INPUT``: an attribution map for inputs of a trained run.

    axonic explain runs/cnn_digits INPUT.npy --method integrated_gradients --target 3 \\
        --out heat.png [--index 0] [--layer 2] [--save attributions.npy]

INPUT holds samples as ``axonic predict`` reads them; they are standardised as in
training. Without ``--target`` each sample's predicted class is explained. Images get a
heat map over the picture, other inputs a bar chart of their features.
"""

from __future__ import annotations

import numpy as np

METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "grad_cam",
           "guided_backprop", "guided_grad_cam", "occlusion", "feature_ablation")


def add_parser(sub) -> None:
    e = sub.add_parser("explain", help="attribution map for inputs of a trained run")
    e.add_argument("run_dir")
    e.add_argument("input", help="inputs as .npy or .csv (one sample per row)")
    e.add_argument("--method", choices=METHODS, default="integrated_gradients")
    e.add_argument("--target", type=int, help="the output index to explain (default: the "
                   "predicted class of each sample)")
    e.add_argument("--index", type=int, default=0, help="the sample to draw (default 0)")
    e.add_argument("--layer", help="grad_cam / guided_grad_cam: the layer's dotted name "
                   "(default: the last Conv2d)")
    e.add_argument("--n-steps", type=int, default=50, help="integrated_gradients: steps")
    e.add_argument("--out", default="attribution.png", help="the picture to write")
    e.add_argument("--save", help="also write all attributions to this .npy file")


def _last_conv(model):
    from axonic.nn import Conv2d

    names = [n for n, m in model.named_modules() if isinstance(m, Conv2d)]
    return names[-1] if names else None


def attribute(model, X, method: str, target, layer=None, n_steps: int = 50):
    """Attributions of ``method`` (a name in ``METHODS``) for inputs ``X`` (an array)."""
    import axonic
    from axonic import explain
    from axonic.cli.config import ConfigError

    x = axonic.tensor(X)
    if method in ("grad_cam", "guided_grad_cam"):
        layer = layer or _last_conv(model)
        if layer is None:
            raise ConfigError(f"explain: --method {method} needs --layer (the model has no "
                              "Conv2d)")
    if method == "saliency":
        return explain.Saliency(model).attribute(x, target=target)
    if method == "input_x_gradient":
        return explain.InputXGradient(model).attribute(x, target=target)
    if method == "integrated_gradients":
        return explain.IntegratedGradients(model).attribute(x, target=target, n_steps=n_steps)
    if method == "smoothgrad":
        std = 0.15 * float(np.ptp(X)) or 0.15
        return explain.NoiseTunnel(explain.Saliency(model)).attribute(
            x, nt_samples=20, stdevs=std, target=target)
    if method == "grad_cam":
        cam = explain.LayerGradCam(model, layer).attribute(x, target=target,
                                                           relu_attributions=True)
        return explain.LayerAttribution.interpolate(cam, X.shape[2:], "bilinear")
    if method == "guided_backprop":
        return explain.GuidedBackprop(model).attribute(x, target=target)
    if method == "guided_grad_cam":
        return explain.GuidedGradCam(model, layer).attribute(x, target=target)
    if method == "occlusion":
        window = (1,) * (X.ndim - 3) + (min(2, X.shape[-2]), min(2, X.shape[-1])) \
            if X.ndim >= 3 else (1,)
        return explain.Occlusion(model).attribute(x, window, target=target)
    return explain.FeatureAblation(model).attribute(x, target=target)


def cmd_explain(args) -> int:
    import axonic
    from axonic.cli.config import ConfigError
    from axonic.cli.data import read_table, standardize
    from axonic.cli.main import _load_run
    from axonic.explain.visualize import feature_bars, image_heatmap

    cfg, pre, model = _load_run(args.run_dir)
    raw = read_table(args.input)
    shape = tuple(pre["input_shape"])
    per_sample = int(np.prod(shape)) if shape else 1
    if raw.size % per_sample:
        raise ConfigError(f"explain: {args.input} has shape {raw.shape}; the model takes "
                          f"samples of shape {shape}")
    raw = raw.reshape((-1, *shape)).astype(pre["input_dtype"])
    if not 0 <= args.index < len(raw):
        raise ConfigError(f"explain: --index {args.index} is out of range for {len(raw)} "
                          "samples")
    X = standardize(raw, pre)
    with axonic.no_grad():
        out = model(axonic.tensor(X)).numpy()
    if args.target is not None and not 0 <= args.target < out.shape[-1]:
        raise ConfigError(f"explain: --target {args.target} is out of range for a model "
                          f"with {out.shape[-1]} outputs")
    target = [int(t) for t in out.argmax(-1)] if args.target is None else args.target
    attr = attribute(model, X, args.method, target, args.layer, args.n_steps).numpy()
    i, classes = args.index, pre.get("classes")
    t = target if isinstance(target, int) else target[i]
    title = f"{args.method}, target {classes[t] if classes else t}"
    if len(shape) == 3:
        image_heatmap(attr[i], raw[i], title=title, path=args.out)
    else:
        feature_bars(attr[i].reshape(-1), title=title, path=args.out)
    if args.save:
        np.save(args.save, attr)
    print(f"wrote {args.out} ({args.method}, sample {i}, target {t})")
    return 0
