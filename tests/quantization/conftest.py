import pytest


def pytest_collection_modifyitems(items):
    # PyTorch (the reference here) warns that torch.ao.quantization is deprecated
    for item in items:
        if "tests/quantization/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.filterwarnings("ignore::UserWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning"))
