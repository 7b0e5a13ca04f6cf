"""no_grad / enable_grad / set_grad_enabled as context managers, decorators and calls."""

import threading

import axonic


def _records(x):
    return (x * 2).requires_grad


def test_no_grad_context_manager():
    x = axonic.ones(2, requires_grad=True)
    with axonic.no_grad():
        assert not axonic.is_grad_enabled()
        assert not _records(x)
    assert axonic.is_grad_enabled() and _records(x)


def test_no_grad_decorator():
    x = axonic.ones(2, requires_grad=True)

    @axonic.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert axonic.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = axonic.ones(2, requires_grad=True)
    with axonic.no_grad():
        with axonic.enable_grad():
            assert _records(x)
        assert not _records(x)

    @axonic.enable_grad()
    def f(t):
        return t * 2

    with axonic.no_grad():
        assert f(x).requires_grad


def test_set_grad_enabled_as_plain_call():
    x = axonic.ones(2, requires_grad=True)
    try:
        axonic.set_grad_enabled(False)
        assert not axonic.is_grad_enabled() and not _records(x)
        axonic.set_grad_enabled(True)
        assert _records(x)
    finally:
        axonic.set_grad_enabled(True)


def test_set_grad_enabled_as_context_manager_restores():
    x = axonic.ones(2, requires_grad=True)
    with axonic.set_grad_enabled(False):
        assert not _records(x)
    assert _records(x)
    with axonic.no_grad():
        with axonic.set_grad_enabled(True):
            assert _records(x)
        assert not _records(x)


def test_set_grad_enabled_as_decorator():
    x = axonic.ones(2, requires_grad=True)

    @axonic.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert axonic.is_grad_enabled()  # decorating does not switch the mode
    assert not f(x).requires_grad
    assert axonic.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    try:
        with axonic.no_grad():
            raise ValueError("boom")
    except ValueError:
        pass
    assert axonic.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    with axonic.no_grad():
        t = threading.Thread(target=lambda: seen.append(axonic.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_no_grad_results_are_leaves_without_history():
    x = axonic.ones(2, requires_grad=True)
    with axonic.no_grad():
        y = x.exp()
    assert y.is_leaf and y.grad_fn is None and not y.requires_grad
