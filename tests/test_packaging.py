"""What the package declares and what it ships agree (issue 16): licence, URLs, typing, warnings."""

import configparser
import hashlib
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")
# md5 of https://www.apache.org/licenses/LICENSE-2.0.txt, the canonical text
APACHE_2_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_file_is_the_apache_2_text_the_metadata_declares():
    project = _project()["project"]
    assert project["license"] == "Apache-2.0"  # an SPDX expression, not the deprecated table
    packaging_licenses = pytest.importorskip("packaging.licenses")
    assert packaging_licenses.canonicalize_license_expression(project["license"]) == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.md5(text).hexdigest() == APACHE_2_MD5
    # setuptools refuses a licence classifier next to an SPDX expression
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    build = _project()["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in build)


def test_project_urls_are_declared():
    urls = _project()["project"]["urls"]
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())


def test_py_typed_is_present_and_shipped():
    assert (ROOT / "rnnzoo" / "py.typed").is_file()
    assert "py.typed" in _project()["tool"]["setuptools"]["package-data"]["rnnzoo"]


def _filters():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return [line.strip() for line in config["tool:pytest"]["filterwarnings"].splitlines()
            if line.strip()]


def test_warnings_are_filtered_by_name_not_by_category():
    for line in _filters():
        action, message, category, *module = (line.split(":") + ["", ""])[:4]
        assert message or (module and module[0]), f"a filter for a whole category: {line!r}"


def test_our_own_deprecations_show_and_third_party_ones_do_not(tmp_path):
    (tmp_path / "test_warns.py").write_text(textwrap.dedent("""
        import warnings

        def test_ours():
            warnings.warn_explicit("OURS-deprecated", DeprecationWarning, "rnnzoo/x.py", 1,
                                   module="rnnzoo.x")

        def test_theirs():
            warnings.warn_explicit("THEIRS-deprecated", DeprecationWarning, "keras/x.py", 1,
                                   module="keras.src.x")
            warnings.warn_explicit("THEIRS-future", FutureWarning, "tensorflow/x.py", 1,
                                   module="tensorflow.python.x")
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "setup.cfg"), "--rootdir",
         str(tmp_path), "-p", "no:xdist", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
         str(tmp_path / "test_warns.py")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OURS-deprecated" in result.stdout
    assert "THEIRS" not in result.stdout
