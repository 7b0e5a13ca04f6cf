"""PyTorch's public surface in axonic: the public names of the installed PyTorch's ``torch``,
``torch.nn``, ``torch.nn.functional``, ``torch.optim``, ``torch.utils.data`` and ``Tensor``
that axonic lacks must each be in ``tests/api_surface_allowlist.json`` with the reason.

``PYTHONPATH=src python tests/compat/api_surface.py`` prints what is missing. Adding a
PyTorch name to axonic leaves a stale allow-list entry, which is reported, not failed, so
that branches adding names merge cleanly; drop the entry when convenient.
"""

import pytest

from tests.compat.api_surface import NAMESPACES, load_allowlist, missing_names, torch_names

ALLOWED = load_allowlist()


@pytest.mark.parametrize("namespace", list(NAMESPACES))
def test_every_missing_torch_name_is_allow_listed_with_a_reason(namespace):
    missing = missing_names(namespace)
    unlisted = [n for n in missing if n not in ALLOWED[namespace]]
    stale = sorted(set(ALLOWED[namespace]) - set(missing))
    print(f"{namespace}: {len(missing)} of {len(torch_names(namespace))} names missing, "
          f"{len(stale)} allow-list entries now present")
    assert not unlisted, (f"{namespace}: axonic lacks {unlisted}; add them, or list them in "
                          "tests/api_surface_allowlist.json with the reason")


@pytest.mark.parametrize("namespace", list(NAMESPACES))
def test_allow_list_names_only_real_torch_names(namespace):
    unknown = sorted(set(ALLOWED[namespace]) - set(torch_names(namespace)))
    assert not unknown, f"{namespace}: the allow-list names {unknown}, which PyTorch lacks"


def test_allow_list_gives_a_reason_for_every_group():
    import json

    from tests.compat.api_surface import ALLOWLIST

    for group in json.loads(ALLOWLIST.read_text()):
        assert group["namespace"] in NAMESPACES
        assert len(group["reason"]) > 20 and group["names"] == sorted(set(group["names"]))


def test_the_names_issue_11_asked_for_are_present():
    for namespace, names in {
        "torch": ["multinomial", "inference_mode", "_assert", "backends", "accelerator",
                  "bfloat16", "amp", "autocast", "GradScaler", "serialization", "utils"],
        "torch.optim": ["LBFGS"],
        "torch.utils.data": ["DataLoader", "RandomSampler", "get_worker_info"],
        "Tensor": ["type", "is_xpu", "is_mps", "is_meta", "is_sparse", "is_quantized",
                   "multinomial"],
    }.items():
        missing = set(missing_names(namespace))
        assert not missing & set(names), f"{namespace}: {sorted(missing & set(names))}"
