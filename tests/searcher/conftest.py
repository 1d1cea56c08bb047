import numpy as np
import pytest

from tests.searcher.searcher_testlib import open_searcher


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def searcher(tmp_path):
    s = open_searcher(tmp_path / "data", ann="none")
    yield s
    s.close()
