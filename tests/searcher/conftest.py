import numpy as np
import pytest
from videosearch.searcher.service import Searcher


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def searcher(tmp_path):
    s = Searcher.open(tmp_path / "data", ann="none")
    yield s
    s.close()
