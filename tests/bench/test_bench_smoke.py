"""The benchmark code runs: each workload builds and trains one step at tiny sizes, in axonic
and (with the same weights and batch) in PyTorch, and the harness helpers behave. No timings
are asserted: the machine is shared and noisy."""

import dataclasses

import numpy as np
import pytest

from bench import char_lstm, cnn, memory, mlp, mlp_latency, run_all, transformer
from bench.common import (
    Workload,
    first_losses,
    profile_calls,
    replace_section,
    time_alternating,
)
from tests.conftest import requires_torch

TINY = {
    "mlp": (mlp.WORKLOAD, {"sizes": (8, 6, 4, 3)}),
    "cnn": (cnn.WORKLOAD, {"side": 8, "channels": (1, 2, 3), "hidden": 5, "classes": 3}),
    "char_lstm": (char_lstm.WORKLOAD, {"vocab": 7, "embed": 4, "hidden": 5, "seq": 6}),
    "transformer": (transformer.WORKLOAD,
                    {"vocab": 7, "d": 8, "heads": 2, "ff": 16, "layers": 1, "seq": 5}),
}


def tiny(name: str) -> Workload:
    workload, sizes = TINY[name]
    return dataclasses.replace(workload, samples=3, sizes=sizes)


@pytest.mark.parametrize("name", sorted(TINY))
def test_axonic_model_trains_one_step(name):
    step = tiny(name).train_steps(("axonic",))["axonic"]
    before = [p.detach().numpy().copy() for p in step.model.parameters()]
    loss = float(step().item())
    assert np.isfinite(loss)
    after = [p.detach().numpy() for p in step.model.parameters()]
    assert len(after) > 0
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


@requires_torch
@pytest.mark.parametrize("name", sorted(TINY))
def test_both_frameworks_start_from_the_same_loss(name):
    losses = first_losses(tiny(name).train_steps())
    # float32 throughout; the orders of summation differ between the two frameworks
    assert losses["axonic"] == pytest.approx(losses["torch"], rel=1e-5, abs=1e-6)


@requires_torch
def test_weights_are_copied_from_torch():
    models = tiny("mlp").models()
    ax = models["axonic"].state_dict()
    for key, value in models["torch"].state_dict().items():
        np.testing.assert_array_equal(ax[key].numpy(), value.detach().numpy())


@requires_torch
def test_latency_calls_agree_at_batch_one():
    workload = dataclasses.replace(mlp_latency.WORKLOAD, sizes={"sizes": (8, 6, 4, 3)})
    calls = mlp_latency.calls(workload)
    outs = {k: fn() for k, fn in calls.items()}
    assert tuple(outs["axonic"].shape) == (1, 3)
    np.testing.assert_allclose(outs["axonic"].numpy(), outs["torch"].numpy(),
                               rtol=1e-5, atol=1e-6)
    assert not outs["axonic"].requires_grad
    (x,), _ = workload.data()
    floor = mlp_latency.numpy_call(calls["axonic"].model, x)()
    np.testing.assert_allclose(floor, outs["axonic"].numpy(), rtol=1e-5, atol=1e-6)


def test_memory_child_reports_a_positive_growth():
    out = memory.peak_rss_mb()
    assert out > 0


def test_time_alternating_calls_every_case_as_asked():
    counts = {"a": 0, "b": 0}

    def bump(name):
        def fn():
            counts[name] += 1
        return fn

    times, usage, steps = time_alternating({"a": bump("a"), "b": bump("b")}, runs=3, warmup=2,
                                    steps=4, collect=False)
    assert steps == 4
    assert counts == {"a": 2 + 3 * 4, "b": 2 + 3 * 4}
    assert [len(v) for v in times.values()] == [3, 3]
    assert [len(v["cpu"]) for v in usage.values()] == [3, 3]
    assert [len(v["faults"]) for v in usage.values()] == [3, 3]


def test_profile_names_the_profiled_function():
    def work():
        return sum(range(1000))

    prof = profile_calls(work, 3, top=5)
    assert any("work" in row["function"] for row in prof["top"])
    assert all(0.0 <= row["own_share"] <= 1.0 for row in prof["top"])


def test_replace_section_keeps_the_rest_of_the_file():
    text = "# B\n\nother\n<!-- s -->\nold\n<!-- e -->\ntail\n"
    out = replace_section(text, "<!-- s -->", "<!-- e -->", "new")
    assert out == "# B\n\nother\n<!-- s -->\nnew\n<!-- e -->\ntail\n"
    assert replace_section("# B\n", "<!-- s -->", "<!-- e -->", "x").endswith(
        "<!-- s -->\nx\n<!-- e -->\n")


def test_render_marks_targets_reached_and_missed(tmp_path):
    side = {"samples_per_s": 100.0}
    results = [
        {"script": "mlp", "workload": "MLP", "threads": 1, "axonic": side,
         "torch": {"samples_per_s": 50.0}, "ratio": 2.0},
        {"script": "memory", "workload": "memory", "threads": 1,
         "axonic": {"display": "+30 MiB"}, "torch": {"display": "+20 MiB"}, "ratio": 1.5},
        {"script": "cnn", "workload": "CNN", "threads": 2, "error": "boom"},
        {"script": "cnn", "workload": "CNN", "threads": 1, "axonic": side,
         "torch": {"samples_per_s": 50.0}, "ratio": 2.0,
         "alone": {"samples_per_s": 25.0}, "alone_ratio": 0.5},
    ]
    text = run_all.render(results, quick=True)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert "reached" in rows[1] and "2.00x" in rows[1]
    assert "missed" in rows[2] and "<= 1x" in rows[2]
    assert "error" in rows[3]
    assert "0.50x" in rows[4] and "missed" in rows[4]  # the lower ratio decides
    doc = tmp_path / "B.md"
    doc.write_text("# Benchmarks\n\n## Other\nkept\n")
    run_all.write_doc(text, doc)
    written = doc.read_text()
    assert "kept" in written and run_all.START in written and run_all.NOTES_START in written
