"""The ONNX package's own backend node tests, run through ``axonic.onnx.load``.

Each case is a one-node model (or its function expansion) with inputs and reference
outputs computed by the ``onnx`` package. The names that pass are kept in
``backend_nodes_passing.txt``; the test fails naming any of them that no longer passes.
Regenerate the list and the table of docs/DEPLOY.md with
``PYTHONPATH=src python tests/onnx/test_backend_nodes.py``.
"""

from __future__ import annotations

import collections
import pathlib
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

HERE = pathlib.Path(__file__).parent
PASSING = HERE / "backend_nodes_passing.txt"


def collect():
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return [c for c in collect_testcases(None) if c.kind == "node"]


def family(case) -> str:
    from axonic.onnx.ops import family_of

    nodes = case.model.graph.node
    if len(nodes) != 1:
        return "function expansions"
    return family_of(nodes[0].op_type, nodes[0].domain) or "not implemented"


def _same(out, ref, case) -> bool:
    out = np.asarray(out._data if hasattr(out, "_data") else out)
    ref = np.asarray(ref)
    if out.shape != ref.shape or out.dtype != ref.dtype:
        return False
    if ref.dtype == object or ref.dtype.kind in "biuU":
        return np.array_equal(out, ref)
    try:
        np.testing.assert_allclose(out.astype(np.float64), ref.astype(np.float64),
                                   rtol=max(case.rtol, 1e-3), atol=max(case.atol, 1e-6))
    except AssertionError:
        return False
    return True


def _numpy(v):
    """Reference data as NumPy (exotic dtypes are stored as TensorProtos)."""
    if isinstance(v, onnx.TensorProto):
        return onnx.numpy_helper.to_array(v)
    if isinstance(v, list):
        return [_numpy(x) for x in v]
    return v


def run_case(case) -> bool:
    """Whether axonic reproduces every reference output of ``case``."""
    import axonic.onnx.load_model as lm

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model = lm.load(case.model)
            for inputs, outputs in case.data_sets:
                inputs, outputs = _numpy(list(inputs)), _numpy(list(outputs))
                got = model(*inputs)
                got = got if isinstance(got, tuple) else (got,)
                if len(got) != len(outputs):
                    return False
                for o, r in zip(got, outputs):
                    if isinstance(r, list):  # sequence outputs
                        if not isinstance(o, list) or len(o) != len(r):
                            return False
                        if not all(_same(a, b, case) for a, b in zip(o, r)):
                            return False
                    elif not _same(o, r, case):
                        return False
    except Exception:
        return False
    return True


def results(cases):
    return {c.name: run_case(c) for c in cases}


def table(cases, passed) -> str:
    total, ok = collections.Counter(), collections.Counter()
    for c in cases:
        f = family(c)
        total[f] += 1
        ok[f] += passed[c.name]
    lines = ["| op family | passed / total |", "|---|---|"]
    for f in sorted(total, key=lambda k: (k in ("function expansions", "not implemented"), k)):
        lines.append(f"| {f} | {ok[f]} / {total[f]} |")
    lines.append(f"| **all** | **{sum(ok.values())} / {sum(total.values())}** |")
    return "\n".join(lines)


DOCUMENTED_PASSES = 1682  # the count docs/DEPLOY.md reports (onnx 1.23.2)


def test_backend_node_cases_do_not_regress():
    expected = [n for n in PASSING.read_text().split() if n]
    cases = collect()
    passed = results(cases)
    # a case another onnx release renamed or dropped is not a regression of axonic's
    failing = [n for n in expected if n in passed and not passed[n]]
    assert not failing, f"{len(failing)} ONNX node cases that passed now fail: {failing}"
    count = sum(passed.values())
    assert count >= DOCUMENTED_PASSES, (
        f"{count} of {len(cases)} node cases pass (onnx {onnx.__version__}); "
        f"docs/DEPLOY.md reports {DOCUMENTED_PASSES}")


if __name__ == "__main__":
    import sys

    cases = collect()
    passed = results(cases)
    names = sorted(n for n, ok in passed.items() if ok)
    PASSING.write_text("\n".join(names) + "\n")
    print(table(cases, passed))
    if "-v" in sys.argv:
        print("failing:", " ".join(sorted(n for n, ok in passed.items() if not ok)))
