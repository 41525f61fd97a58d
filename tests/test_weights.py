"""Pretrained weights: registry, cards, the download path (against a real local server), loading.

Every download test sets ``RNNZOO_HOME`` to a temporary folder, disables the
package's bundled copy and points ``RNNZOO_WEIGHTS_MIRROR`` at an HTTP server
on 127.0.0.1 that serves the committed weight files; nothing else is contacted.
"""

import hashlib
import json
import logging
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo import weights
from rnnzoo.weights import download
from tests.conftest import TASKS
from tests.weights.server import FileServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_cards  # noqa: E402

RECORDS = weights.records()
TASK = "classification"
RECORD = RECORDS[TASK]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test touches the user's cache, a real mirror, or the network."""
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RNNZOO_WEIGHTS_MIRROR", raising=False)
    monkeypatch.delenv("RNNZOO_OFFLINE", raising=False)
    monkeypatch.delenv("RNNZOO_BUNDLED_WEIGHTS", raising=False)


@pytest.fixture
def server(monkeypatch):
    """The committed weight files, served on 127.0.0.1; the bundled copy is disabled."""
    with FileServer(weights.BUNDLED_DIR) as srv:
        monkeypatch.setenv("RNNZOO_WEIGHTS_MIRROR", srv.url)
        monkeypatch.setenv("RNNZOO_BUNDLED_WEIGHTS", "0")
        yield srv


def _cache_file():
    return weights.cache_dir() / RECORD["file_name"]


def _leftovers():
    folder = weights.cache_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- registry and cards


def test_every_record_matches_its_committed_file():
    assert RECORDS, "no published weights"
    total = 0
    for task, record in RECORDS.items():
        path = weights.BUNDLED_DIR / record["file_name"]
        data = path.read_bytes()
        assert len(data) == record["size"]
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
        assert record["urls"] and all(u.endswith("/" + record["file_name"]) for u in record["urls"])
        for key in ("license", "dataset", "metrics", "input_spec", "params", "options", "recipe"):
            assert record[key], (task, key)
        assert set(record["recipe"]["versions"]) >= {"keras", "tensorflow"}
        total += record["size"]
    assert total < 20 * 1024 * 1024
    # no stray files: every committed weight file is a published one
    committed = {p.name for p in weights.BUNDLED_DIR.iterdir() if not p.name.startswith(".")}
    assert committed == {r["file_name"] for r in RECORDS.values()}


@pytest.mark.parametrize("task", TASKS)
def test_every_registered_task_has_weights_and_an_agreeing_card(task):
    assert task in RECORDS, f"{task} has no published weights: python tools/train_zoo.py {task}"
    record = RECORDS[task]
    path = make_cards.card_path(task)
    assert path.exists(), f"no card for {task}: python tools/make_cards.py {task}"
    text = path.read_text(encoding="utf-8")
    front = make_cards.parse_front_matter(text)
    for key in make_cards.FRONT_MATTER_FIELDS:
        assert front[key] == record[key], f"zoo_cards/{task}.md disagrees on {key}"
    assert front["recipe"] == record["recipe"]
    # the prose states the measured numbers and how to reproduce them
    for value in record["metrics"]["test"].values():
        assert f"{value:.4f}" in text
    assert record["recipe"]["command"] in text
    assert f"{record['params']:,}" in text
    for heading in ("## Intended use", "## Data", "## Architecture", "## Metrics",
                    "## Limitations"):
        assert heading in text


def test_card_front_matter_parser_rejects_a_card_without_it():
    with pytest.raises(ValueError, match="front matter"):
        make_cards.parse_front_matter("# no front matter\n")


# --------------------------------------------------------------------------- download path


def test_first_download_then_cache_hit_without_network(server, monkeypatch):
    path = weights.fetch(TASK, progress=False)
    assert path == _cache_file()
    assert weights.sha256_of(path) == RECORD["sha256"]
    assert server.requests == ["/" + RECORD["file_name"]]
    assert _leftovers() == [RECORD["file_name"]]  # no temporary file left behind

    # cache hit: no request, even with the network forbidden and a dead mirror
    def no_network(*args, **kwargs):
        raise AssertionError("network used on a cache hit")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.setattr("urllib.request.OpenerDirector.open", no_network)
    monkeypatch.setenv("RNNZOO_WEIGHTS_MIRROR", "http://127.0.0.1:9")
    assert weights.fetch(TASK) == path
    assert len(server.requests) == 1


def test_read_only_cache_is_fine_for_reading(server, monkeypatch):
    path = weights.fetch(TASK, progress=False)
    folder = path.parent
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    try:
        monkeypatch.setenv("RNNZOO_OFFLINE", "1")
        assert weights.fetch(TASK) == path
    finally:
        os.chmod(folder, 0o755)


def test_corrupt_cache_file_is_deleted_reported_and_fetched_again(server, caplog):
    folder = weights.cache_dir()
    folder.mkdir(parents=True)
    bad = b"not the weights"
    _cache_file().write_bytes(bad)
    with caplog.at_level(logging.WARNING, logger="rnnzoo.weights"):
        path = weights.fetch(TASK, progress=False)
    assert weights.sha256_of(path) == RECORD["sha256"]
    assert len(server.requests) == 1
    log = caplog.text
    assert RECORD["sha256"] in log and hashlib.sha256(bad).hexdigest() in log


def test_corrupt_cache_file_offline_fails_with_both_hashes(server, monkeypatch):
    weights.cache_dir().mkdir(parents=True)
    _cache_file().write_bytes(b"x" * 10)
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")
    with pytest.raises(weights.WeightsError, match=RECORD["sha256"]) as info:
        weights.fetch(TASK)
    assert hashlib.sha256(b"x" * 10).hexdigest() in str(info.value)
    assert not _cache_file().exists()  # the bad file is gone
    assert server.requests == []


def test_hash_mismatch_on_download_leaves_nothing(server):
    server.mode = "corrupt"
    with pytest.raises(weights.WeightsError) as info:
        weights.fetch(TASK, progress=False, retries=0)
    message = str(info.value)
    assert "sha256 mismatch" in message and RECORD["sha256"] in message
    assert server.url in message
    assert _leftovers() == []


def test_truncated_transfer_is_retried_and_never_looks_valid(server):
    server.mode = "truncate"
    with pytest.raises(weights.WeightsError, match="2 attempt"):
        weights.fetch(TASK, progress=False, retries=1, backoff=0.01)
    assert len(server.requests) == 2
    assert _leftovers() == []


def test_server_error_is_retried_with_backoff_then_one_clear_message(server):
    server.mode = "error"
    with pytest.raises(weights.WeightsError) as info:
        weights.fetch(TASK, progress=False, retries=2, backoff=0.01)
    assert len(server.requests) == 3
    url = f"{server.url}/{RECORD['file_name']}"
    assert "HTTP 500" in str(info.value) and url in str(info.value)
    assert _leftovers() == []


def test_stalled_connection_times_out_cleanly(server):
    server.mode = "stall"
    with pytest.raises(weights.WeightsError, match="timed out|TimeoutError") as info:
        weights.fetch(TASK, progress=False, timeout=0.3, retries=0)
    assert server.url in str(info.value)
    assert _leftovers() == []


def test_download_shows_a_progress_bar(server, capsys):
    weights.fetch(TASK, progress=True)
    out = capsys.readouterr().out
    assert f"{RECORD['size']}/{RECORD['size']}" in out.replace(",", "")


def test_not_found_is_not_retried(server):
    server.mode = "missing"
    with pytest.raises(weights.WeightsError, match="HTTP 404"):
        weights.fetch(TASK, progress=False, retries=3, backoff=0.01)
    assert len(server.requests) == 1


def test_recovers_when_the_server_comes_back(server, monkeypatch):
    calls = []
    real_sleep = download.time.sleep

    def sleep_and_heal(seconds):
        calls.append(seconds)
        server.mode = "ok"
        real_sleep(0)

    monkeypatch.setattr(download.time, "sleep", sleep_and_heal)
    server.mode = "error"
    path = weights.fetch(TASK, progress=False, retries=3, backoff=0.5)
    assert weights.sha256_of(path) == RECORD["sha256"]
    assert calls == [0.5]  # one back-off, then success


def test_mirror_replaces_the_default_base_url(server, monkeypatch, tmp_path):
    weights.fetch(TASK, progress=False)
    assert server.requests == ["/" + RECORD["file_name"]]
    # a file:// mirror works too (and even offline, since it is not network)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / RECORD["file_name"]).write_bytes(
        (weights.BUNDLED_DIR / RECORD["file_name"]).read_bytes())
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "other_home"))
    monkeypatch.setenv("RNNZOO_WEIGHTS_MIRROR", mirror.as_uri())
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")
    path = weights.fetch(TASK, progress=False)
    assert path.parent == tmp_path / "other_home" / "weights"
    assert weights.sha256_of(path) == RECORD["sha256"]
    assert len(server.requests) == 1


def test_bad_mirror_scheme_is_a_value_error(monkeypatch):
    monkeypatch.setenv("RNNZOO_BUNDLED_WEIGHTS", "0")
    monkeypatch.setenv("RNNZOO_WEIGHTS_MIRROR", "ftp://example.invalid/w")
    with pytest.raises(ValueError, match="RNNZOO_WEIGHTS_MIRROR"):
        weights.fetch(TASK)


@pytest.mark.parametrize("kwargs, match", [
    ({"timeout": 0}, "`timeout` must be"), ({"timeout": float("nan")}, "`timeout` must be"),
    ({"retries": -1}, "`retries` must be"), ({"retries": 1.5}, "`retries` must be"),
])
def test_bad_download_settings_are_value_errors_before_any_request(server, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        weights.fetch(TASK, progress=False, **kwargs)
    assert "Received" in str(info.value)
    assert server.requests == [] and _leftovers() == []


def test_offline_mode_makes_no_network_call_and_says_what_to_do(server, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used in offline mode")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.setattr("urllib.request.OpenerDirector.open", no_network)
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")
    with pytest.raises(weights.WeightsError) as info:
        rnnzoo.build(TASK, weights="pretrained")
    message = str(info.value)
    for part in (RECORD["file_name"], RECORD["sha256"], str(_cache_file()),
                 "rnnzoo weights fetch"):
        assert part in message
    assert server.requests == []


def test_pretrained_without_mirror_uses_the_committed_file_and_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the default URL must never be contacted here")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.setattr("urllib.request.OpenerDirector.open", no_network)
    assert weights.fetch(TASK) == weights.BUNDLED_DIR / RECORD["file_name"]
    assert not _cache_file().exists()


# --------------------------------------------------------------------------- issue 16: limits


class _CountingSha256:
    """hashlib.sha256 that remembers how many bytes each digest was fed."""

    fed: list = []

    def __init__(self, real):
        self._real = real
        self.count = 0
        _CountingSha256.fed.append(self)

    def update(self, data):
        self.count += len(data)
        self._real.update(data)

    def hexdigest(self):
        return self._real.hexdigest()


def test_a_server_that_streams_forever_is_cut_at_the_published_size(server, monkeypatch):
    real_sha256 = hashlib.sha256
    _CountingSha256.fed = []
    monkeypatch.setattr(download.hashlib, "sha256", lambda: _CountingSha256(real_sha256()))
    server.mode = "forever"
    with pytest.raises(weights.WeightsError, match="more than the published size") as info:
        weights.fetch(TASK, progress=False, retries=2, backoff=0.01, deadline=60)
    assert str(RECORD["size"]) in str(info.value)
    assert len(server.requests) == 1  # another attempt would get the same: not retried
    assert _leftovers() == []
    # the bytes written (all of them hashed) never went past the published size
    assert max(d.count for d in _CountingSha256.fed) <= RECORD["size"]


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_a_slow_drip_server_is_cut_off_by_the_overall_deadline(server, monkeypatch, how):
    server.mode = "drip"  # one byte every 50 ms: each read is quick, the whole is hours
    kwargs = {"deadline": 0.5} if how == "keyword" else {}
    if how == "environment":
        monkeypatch.setenv("RNNZOO_DOWNLOAD_DEADLINE", "0.5")
    with pytest.raises(weights.WeightsError, match="deadline") as info:
        weights.fetch(TASK, progress=False, timeout=5, retries=3, backoff=0.01, **kwargs)
    assert server.url in str(info.value)
    assert len(server.requests) == 1
    assert 0 < server.sent < RECORD["size"]
    assert _leftovers() == []


@pytest.mark.parametrize("value", ["soon", "0", "nan"])
def test_a_bad_deadline_is_a_value_error_naming_it(server, monkeypatch, value):
    monkeypatch.setenv("RNNZOO_DOWNLOAD_DEADLINE", value)
    with pytest.raises(ValueError, match="DEADLINE|`deadline`"):
        weights.fetch(TASK, progress=False)
    assert server.requests == []


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:9/w.keras", "file:///etc/passwd"])
def test_redirects_leave_http_only_with_a_refusal_that_says_where(server, target):
    server.mode = "redirect"
    server.redirect_to = target
    with pytest.raises(weights.WeightsError) as info:
        weights.fetch(TASK, progress=False, retries=2, backoff=0.01)
    assert f"redirected (HTTP 302) to {target}" in str(info.value)
    assert len(server.requests) == 1
    assert _leftovers() == []


def test_redirects_within_http_are_followed(server, monkeypatch):
    with FileServer(weights.BUNDLED_DIR) as other:  # another host:port
        server.mode = "redirect"
        server.redirect_to = f"{other.url}/{RECORD['file_name']}"
        path = weights.fetch(TASK, progress=False)
    assert weights.sha256_of(path) == RECORD["sha256"]
    assert other.requests == ["/" + RECORD["file_name"]]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_cached_files_get_the_mode_the_umask_allows(server, tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = weights.fetch(TASK, progress=False)
        copy = weights.copy_to(TASK, tmp_path / "copy")
    finally:
        os.umask(previous)
    for file in (path, copy):
        assert (file.stat().st_mode & 0o777) == (0o666 & ~umask), oct(file.stat().st_mode)


def test_copy_to_keeps_a_verified_copy_and_replaces_a_corrupt_one(server, tmp_path):
    folder = tmp_path / "copy"
    first = weights.copy_to(TASK, folder)
    assert server.requests == ["/" + RECORD["file_name"]]
    # a verified copy already in place is returned as it is, without a request
    assert weights.copy_to(TASK, folder) == first
    assert server.requests == ["/" + RECORD["file_name"]]
    first.write_bytes(b"not the weights")
    again = weights.copy_to(TASK, folder)
    assert again == first and weights.sha256_of(again) == RECORD["sha256"]
    assert len(server.requests) == 2


def test_cache_dir_is_rnnzoo_home_else_keras_home_else_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNZOO_HOME", "~/zoo")
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert weights.cache_dir() == tmp_path / "me" / "zoo" / "weights"
    monkeypatch.delenv("RNNZOO_HOME")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert weights.cache_dir() == tmp_path / "keras" / "rnnzoo" / "weights"
    monkeypatch.delenv("KERAS_HOME")
    assert weights.cache_dir() == tmp_path / "me" / ".keras" / "rnnzoo" / "weights"


def test_a_bad_cached_copy_falls_back_to_the_bundled_one_and_is_repaired(caplog):
    weights.cache_dir().mkdir(parents=True)
    _cache_file().write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING, logger="rnnzoo.weights"):
        path = weights.fetch(TASK)
    assert path == weights.BUNDLED_DIR / RECORD["file_name"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert hashlib.sha256(b"truncated").hexdigest() in message and "bundled" in message
    assert weights.sha256_of(_cache_file()) == RECORD["sha256"]  # the cache is repaired


def test_a_bad_copy_in_a_cache_that_cannot_be_changed_is_not_an_error(caplog, monkeypatch):
    weights.cache_dir().mkdir(parents=True)
    _cache_file().write_bytes(b"truncated")

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pathlib.Path, "unlink", read_only)
    monkeypatch.setattr("rnnzoo.weights.cache.atomic_copy", read_only)
    with caplog.at_level(logging.WARNING, logger="rnnzoo.weights"):
        path = weights.fetch(TASK)
    assert path == weights.BUNDLED_DIR / RECORD["file_name"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "could not be repaired" in warnings[0]


def test_rnnzoo_home_that_is_a_file(tmp_path, monkeypatch):
    home = tmp_path / "home_file"
    home.write_text("x")
    monkeypatch.setenv("RNNZOO_HOME", str(home))
    # reading: the bundled copy still serves
    assert weights.fetch(TASK) == weights.BUNDLED_DIR / RECORD["file_name"]
    # writing: one clear error naming the setting
    monkeypatch.setenv("RNNZOO_BUNDLED_WEIGHTS", "0")
    monkeypatch.setenv("RNNZOO_WEIGHTS_MIRROR", "http://127.0.0.1:9")
    with pytest.raises(weights.WeightsError, match="RNNZOO_HOME"):
        weights.fetch(TASK, progress=False, retries=0)


def test_a_truncated_keras_file_is_reported_as_truncated(tmp_path):
    source = weights.BUNDLED_DIR / RECORD["file_name"]
    truncated = tmp_path / "cut.keras"
    truncated.write_bytes(source.read_bytes()[:1000])
    with pytest.raises(ValueError, match="truncated") as info:
        rnnzoo.build(TASK, weights=str(truncated))
    assert "File not found" not in str(info.value) and str(truncated) in str(info.value)
    not_a_model = tmp_path / "empty.keras"
    import zipfile

    with zipfile.ZipFile(not_a_model, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="no config.json"):
        weights.load_model_file(not_a_model)


_WORKER = textwrap.dedent("""
    import pathlib, sys, types
    # The download stack alone: the rnnzoo and rnnzoo.weights packages are stood in for,
    # so neither their __init__ (Keras, TensorFlow) nor the loading module is imported.
    root = pathlib.Path(sys.argv[1])
    for name, folder in (("rnnzoo", root), ("rnnzoo.weights", root / "weights")):
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package
    from rnnzoo.weights import cache
    assert "keras" not in sys.modules and "tensorflow" not in sys.modules, "heavy import"
    print(cache.fetch(sys.argv[2], progress=False, retries=2, backoff=0.05))
""")


@pytest.mark.parametrize("start_corrupt", [False, True])
def test_concurrent_processes_end_with_one_valid_file(server, start_corrupt):
    server.mode = "slow"  # transfers overlap
    if start_corrupt:  # every worker finds the same bad file and replaces it
        weights.cache_dir().mkdir(parents=True)
        _cache_file().write_bytes(b"partial")
    env = {**os.environ}
    # the download stack imports nothing heavy at module level: the workers load it alone
    package = pathlib.Path(rnnzoo.__file__).parent
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(package), TASK], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert out.strip() == str(_cache_file())
    assert weights.sha256_of(_cache_file()) == RECORD["sha256"]
    assert _leftovers() == [RECORD["file_name"]]
    assert 1 <= len(server.requests) <= 4


def test_verify_reports_mismatches_without_deleting(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / RECORD["file_name"]).write_bytes(b"garbage")
    rows = {(r["task"], r["where"]): r for r in weights.verify([TASK], cache=folder)}
    assert rows[(TASK, "cache")]["status"] == "mismatch"
    assert rows[(TASK, "cache")]["actual"] == hashlib.sha256(b"garbage").hexdigest()
    assert rows[(TASK, "bundled")]["status"] == "ok"
    assert (folder / RECORD["file_name"]).exists()


def test_unknown_task_names_the_published_ones():
    with pytest.raises(ValueError, match="classification"):
        weights.fetch("clasification")


# --------------------------------------------------------------------------- loading


def _test_batch(n=256):
    x, y = [], []
    for xb, yb in rnnzoo.data.load(TASK, "test", 64):
        x.append(xb.numpy())
        y.append(yb.numpy())
        if sum(len(b) for b in y) >= n:
            break
    length = max(b.shape[1] for b in x)
    x = np.concatenate([np.pad(b, ((0, 0), (0, length - b.shape[1]))) for b in x])
    return x, np.concatenate(y)


def test_pretrained_model_is_trained_and_uses_published_options():
    x, y = _test_batch()
    model = rnnzoo.build(TASK, weights="pretrained")
    trained = model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
    random = rnnzoo.build(TASK).evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
    assert trained >= 0.9 and random < 0.5
    assert model.rnnzoo_weights_report.complete
    assert model.count_params() == RECORD["params"]
    # a user override still wins over the published options
    tweaked = rnnzoo.build(TASK, weights="pretrained", learning_rate=0.01)
    assert float(keras.ops.convert_to_numpy(tweaked.optimizer.learning_rate)) == \
        pytest.approx(0.01)


def test_new_head_loads_the_rest_and_says_exactly_what(caplog):
    reference = rnnzoo.build(TASK, weights="pretrained")
    with caplog.at_level(logging.WARNING, logger="rnnzoo.weights"):
        model = rnnzoo.build(TASK, weights="pretrained", num_classes=6)
    report = model.rnnzoo_weights_report
    assert set(report.skipped) == {"classifier/kernel", "classifier/bias"}
    assert "embedding/embeddings" in report.loaded and len(report.loaded) == 4
    assert "classifier/kernel" in caplog.text and "(64, 4)" in caplog.text
    by_path = {v.path: v for v in reference.weights}
    for var in model.weights:
        if var.path in report.loaded:
            np.testing.assert_array_equal(var.numpy(), by_path[var.path].numpy())
    assert model.output_shape == (None, 6)
    # a new vocabulary reinitialises the embedding only
    grown = rnnzoo.build(TASK, weights="pretrained", vocab_size=50)
    assert grown.rnnzoo_weights_report.skipped == ("embedding/embeddings",)


def test_freeze_encoder_trains_only_the_head():
    model = rnnzoo.build(TASK, weights="pretrained", num_classes=3, freeze_encoder=True)
    report = model.rnnzoo_weights_report
    assert set(report.frozen) == {"embedding", "rnn_1"}
    before = {v.path: v.numpy().copy() for v in model.weights}
    x, y = _test_batch(64)
    model.fit(x, y % 3, epochs=1, batch_size=32, verbose=0)
    for var in model.weights:
        changed = not np.array_equal(var.numpy(), before[var.path])
        assert changed == var.path.startswith("classifier"), var.path


@pytest.mark.parametrize(
    "override, named",
    [({"cell": "gru"}, "cell"), ({"depth": 2}, "depth"), ({"units": 32}, "units"),
     ({"bidirectional": True}, "bidirectional")],
)
def test_incompatible_architecture_is_a_clear_error(override, named):
    with pytest.raises(ValueError, match="Incompatible architecture") as info:
        rnnzoo.build(TASK, weights="pretrained", **override)
    assert f"{named}: published" in str(info.value)


def test_local_keras_and_weights_h5_files_round_trip(tmp_path):
    model = rnnzoo.build(TASK, units=8, embedding_dim=8)
    x, _ = _test_batch(16)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    for path in (tmp_path / "m.keras", tmp_path / "m.weights.h5"):
        loaded = rnnzoo.build(TASK, units=8, embedding_dim=8, weights=str(path))
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
        assert loaded.rnnzoo_weights_report.complete
    # a .weights.h5 file has no config: only the exact architecture loads, clearly
    with pytest.raises(ValueError, match="same options"):
        rnnzoo.build(TASK, units=8, embedding_dim=8, num_classes=5,
                     weights=str(tmp_path / "m.weights.h5"))
    # a .keras file gives a partial load into a new head
    head = rnnzoo.build(TASK, units=8, embedding_dim=8, num_classes=5,
                        weights=str(tmp_path / "m.keras"))
    assert set(head.rnnzoo_weights_report.skipped) == {"classifier/kernel", "classifier/bias"}


@pytest.mark.parametrize(
    "value, match",
    [("missing.keras", "no such file"), (123, "weights"), ("pretrainedd", "weights")],
)
def test_bad_weights_values_are_value_errors(value, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.build(TASK, weights=value)


def test_freeze_encoder_needs_weights():
    with pytest.raises(ValueError, match="freeze_encoder"):
        rnnzoo.build(TASK, freeze_encoder=True)


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(k for k, r in RECORDS.items() if "preset" not in r))
def test_pretrained_reproduces_the_published_metrics(task):
    # the real-data presets: tests/catalogue/test_zoo.py re-scores them on their test splits
    record = RECORDS[task]
    keras.utils.set_random_seed(record["recipe"]["seed"])
    model = rnnzoo.build(task, weights="pretrained")
    test = rnnzoo.data.load(task, "test", record["recipe"]["batch_size"],
                            **record["dataset"]["loader"]["eval"])
    results = model.evaluate(test, verbose=0, return_dict=True)
    primary = record["primary_metric"]
    published = record["metrics"]["test"][primary]
    assert results[primary] == pytest.approx(published, rel=0.02, abs=0.01)


def test_train_zoo_writes_a_complete_record_and_a_loadable_file(tmp_path):
    import train_zoo

    spec = rnnzoo.registry.get(TASK)
    recipe = {"epochs": 1, "overrides": spec.tiny["overrides"], "data": spec.tiny["data"],
              "eval_data": spec.tiny["data"]}
    record = train_zoo.train_task(TASK, folder=tmp_path, recipe=recipe, verbose=0)
    train_zoo.write_record(record, tmp_path / "registry.json")
    path = tmp_path / record["file_name"]
    assert weights.sha256_of(path) == record["sha256"] and path.stat().st_size == record["size"]
    assert record["file_name"] == f"{TASK}-{record['sha256'][:8]}.keras"
    assert json.loads((tmp_path / "registry.json").read_text())["models"][TASK] == record
    model = rnnzoo.build(TASK, weights=str(path), **record["options"])
    assert model.count_params() == record["params"]
    test = rnnzoo.data.load(TASK, "test", record["recipe"]["batch_size"], **spec.tiny["data"])
    measured = model.evaluate(test, verbose=0, return_dict=True)
    for name, value in record["metrics"]["test"].items():
        assert measured[name] == pytest.approx(value, abs=1e-4)
    assert record["recipe"]["epochs"] == 1 and record["recipe"]["seed"] == 0
    assert record["recipe"]["versions"]["keras"] == keras.__version__


# --------------------------------------------------------------------------- CLI


def test_cli_weights_list_fetch_verify(tmp_path, capsys, monkeypatch):
    from rnnzoo import cli

    assert cli.main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert RECORD["file_name"] in out and f"{RECORD['size']:,}" in out

    assert cli.main(["weights", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[TASK]["sha256"] == RECORD["sha256"]

    monkeypatch.setenv("RNNZOO_OFFLINE", "1")  # the bundled copy fills it: no network
    target = tmp_path / "airgap"
    assert cli.main(["weights", "fetch", TASK, "--to", str(target)]) == 0
    assert weights.sha256_of(target / RECORD["file_name"]) == RECORD["sha256"]
    capsys.readouterr()

    assert cli.main(["weights", "verify", "--cache", str(target)]) == 0
    assert "mismatch" not in capsys.readouterr().out
    (target / RECORD["file_name"]).write_bytes(b"tampered")
    assert cli.main(["weights", "verify", TASK, "--cache", str(target)]) == 1
    out = capsys.readouterr().out
    assert "mismatch" in out and RECORD["sha256"] in out

    assert cli.main(["weights", "fetch", "nope"]) == 2
    assert "No pretrained weights" in capsys.readouterr().err
