"""``preset="hf://owner/repo"`` against a Hub-like server on 127.0.0.1 (HF_ENDPOINT), never the
internet: the files a preset lists are downloaded, sha256-checked, cached and read offline."""

import shutil

import numpy as np
import pytest

import rnnzoo
from rnnzoo.catalogue.folder import PresetError
from rnnzoo.weights import WeightsError
from tests.weights.server import FileServer


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A server whose /owner/vowels/resolve/main/<file> are a preset folder's files."""
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RNNZOO_OFFLINE", raising=False)
    monkeypatch.setenv("RNNZOO_DOWNLOAD_RETRIES", "0")
    model = rnnzoo.build("classification", num_features=3, num_classes=2, units=4)
    root = tmp_path / "hub"
    rnnzoo.save_preset(model, root / "owner" / "vowels" / "resolve" / "main")
    with FileServer(root) as srv:
        monkeypatch.setenv("HF_ENDPOINT", srv.url)
        srv.model = model
        yield srv


X = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")


def test_hub_preset_downloads_verifies_and_is_cached(hub, monkeypatch):
    model = rnnzoo.build(preset="hf://owner/vowels")
    np.testing.assert_allclose(model.predict(X, verbose=0), hub.model.predict(X, verbose=0),
                               atol=1e-6)
    assert hub.requests[0] == "/owner/vowels/resolve/main/metadata.json"
    assert sorted(hub.requests[1:]) == [f"/owner/vowels/resolve/main/{n}" for n in
                                        ("README.md", "config.json", "model.weights.h5")]
    # again: only the metadata is read, every file is already there with its sha256
    hub.requests.clear()
    rnnzoo.build(preset="hf://owner/vowels")
    assert hub.requests == ["/owner/vowels/resolve/main/metadata.json"]
    # offline: no request at all, the cached folder is used
    hub.requests.clear()
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")
    again = rnnzoo.build(preset="hf://owner/vowels")
    assert hub.requests == []
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_corrupted_download_is_refused(hub, tmp_path):
    served = tmp_path / "hub" / "owner" / "vowels" / "resolve" / "main" / "model.weights.h5"
    data = bytearray(served.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same length, other bytes than metadata.json says
    served.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        rnnzoo.build(preset="hf://owner/vowels")
    cached = tmp_path / "home" / "presets" / "hf" / "owner" / "vowels" / "main"
    assert not (cached / "model.weights.h5").exists() and not (cached / "metadata.json").exists()
    hub.mode = "corrupt"  # the metadata itself damaged in transit
    with pytest.raises(PresetError, match="no valid metadata.json"):
        rnnzoo.build(preset="hf://owner/vowels")


def test_a_missing_repository_or_revision_says_so(hub, monkeypatch):
    with pytest.raises(WeightsError, match="HTTP 404"):
        rnnzoo.build(preset="hf://owner/nothing")
    with pytest.raises(WeightsError, match="HTTP 404"):
        rnnzoo.build(preset="hf://owner/vowels@v2")
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")
    with pytest.raises(WeightsError, match="RNNZOO_OFFLINE=1"):
        rnnzoo.build(preset="hf://owner/vowels@v3")


def test_a_pinned_revision_is_its_own_cache_entry(hub, tmp_path):
    src = tmp_path / "hub" / "owner" / "vowels" / "resolve"
    shutil.copytree(src / "main", src / "v1")
    model = rnnzoo.build(preset="hf://owner/vowels@v1")
    assert model.output_shape == (None, 2)
    assert hub.requests[0] == "/owner/vowels/resolve/v1/metadata.json"
    assert (tmp_path / "home" / "presets" / "hf" / "owner" / "vowels" / "v1").is_dir()
