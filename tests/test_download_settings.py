"""``RNNZOO_DOWNLOAD_TIMEOUT`` and ``RNNZOO_DOWNLOAD_RETRIES``: the environment sets the defaults.

Against the real HTTP server on 127.0.0.1 of ``tests/weights/server.py``; the
explicit ``timeout=``/``retries=`` arguments are tested in ``test_weights.py``.
"""

import time

import pytest

from rnnzoo import weights
from tests.weights.server import FileServer

TASK = "classification"


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RNNZOO_OFFLINE", raising=False)
    monkeypatch.delenv("RNNZOO_DOWNLOAD_TIMEOUT", raising=False)
    monkeypatch.delenv("RNNZOO_DOWNLOAD_RETRIES", raising=False)
    with FileServer(weights.BUNDLED_DIR) as srv:
        monkeypatch.setenv("RNNZOO_WEIGHTS_MIRROR", srv.url)
        monkeypatch.setenv("RNNZOO_BUNDLED_WEIGHTS", "0")
        yield srv


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_retries_come_from_the_environment(server, monkeypatch, retries):
    server.mode = "error"
    monkeypatch.setenv("RNNZOO_DOWNLOAD_RETRIES", str(retries))
    with pytest.raises(weights.WeightsError, match="HTTP 500"):
        weights.fetch(TASK, progress=False, backoff=0.01)
    assert len(server.requests) == retries + 1
    # an explicit argument wins over the environment
    server.requests.clear()
    with pytest.raises(weights.WeightsError):
        weights.fetch(TASK, progress=False, backoff=0.01, retries=0)
    assert len(server.requests) == 1


def test_timeout_comes_from_the_environment(server, monkeypatch):
    server.mode = "stall"  # headers, then 1.5 s of silence
    monkeypatch.setenv("RNNZOO_DOWNLOAD_RETRIES", "0")
    monkeypatch.setenv("RNNZOO_DOWNLOAD_TIMEOUT", "0.3")
    start = time.monotonic()
    with pytest.raises(weights.WeightsError, match="timed out|TimeoutError"):
        weights.fetch(TASK, progress=False)
    assert len(server.requests) == 1
    # a generous timeout from the environment lets the same stalled answer finish waiting
    server.mode = "ok"
    monkeypatch.setenv("RNNZOO_DOWNLOAD_TIMEOUT", "30")
    path = weights.fetch(TASK, progress=False)
    assert path.exists() and len(server.requests) == 2
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("name, value, match", [
    ("RNNZOO_DOWNLOAD_TIMEOUT", "0", "`timeout` must be"),
    ("RNNZOO_DOWNLOAD_TIMEOUT", "-1", "`timeout` must be"),
    ("RNNZOO_DOWNLOAD_RETRIES", "-2", "`retries` must be"),
])
def test_bad_environment_values_fail_before_any_request(server, monkeypatch, name, value,
                                                        match):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=match):
        weights.fetch(TASK, progress=False)
    assert server.requests == []
