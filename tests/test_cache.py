"""The disk cache: hits and misses, per-solver code keys, portable entries (never pickle),
corrupt and stale files recomputed."""

import json
import types
import warnings

import numpy as np
import pytest
import xarray as xr
from badinput import bad_input_test, case

from ddlib import Model, lattice
from ddlib import cache as cache_mod
from ddlib import meanfield as mf
from ddlib.cache import (
    UnportableWarning,
    cache_dir,
    cached,
    code_fingerprint,
    load,
    make_key,
    save,
    solver_modules,
)


def _counter(value=None):
    calls = []

    def compute():
        calls.append(1)
        return {"value": len(calls)} if value is None else value

    return compute, calls


def test_hit_and_miss():
    compute, calls = _counter()
    p = {"model": Model(1.0, 0.5, 1.0), "lattice": lattice.chain(5)}
    assert cached("t.hit", compute, **p) == {"value": 1}
    assert cached("t.hit", compute, **p) == {"value": 1}
    assert len(calls) == 1
    cached("t.hit", compute, model=Model(1.0 + 1e-12, 0.5, 1.0), lattice=lattice.chain(5))
    assert len(calls) == 2


def test_no_pickle_files_are_written():
    cached("t.nopickle", _counter()[0], x=1)
    files = {p.suffix for p in (cache_dir() / "t.nopickle").iterdir()}
    assert files == {".json", ".npz"}


def test_corrupt_and_stale_entries_are_recomputed():
    compute, calls = _counter({"mu": np.arange(3.0)})
    cached("t.bad", compute, x=1)
    folder = cache_dir() / "t.bad"
    (meta,) = folder.glob("*.json")
    (data,) = folder.glob("*.npz")
    data.write_bytes(b"not an npz")  # corrupt data file: checksum differs
    assert cached("t.bad", compute, x=1)["mu"].tolist() == [0.0, 1.0, 2.0]
    assert len(calls) == 2
    meta.write_text("{truncated")  # corrupt description
    cached("t.bad", compute, x=1)
    assert len(calls) == 3
    stored = json.loads(meta.read_text())  # an entry whose stored key does not match
    stored["key"] = "something else"
    meta.write_text(json.dumps(stored))
    cached("t.bad", compute, x=1)
    assert len(calls) == 4
    cached("t.bad", compute, x=1)
    assert len(calls) == 4  # rewritten entries are valid again
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".npz"]  # no temp files


def test_cache_off(monkeypatch):
    monkeypatch.setenv("DDLIB_CACHE", "off")
    compute, calls = _counter()
    cached("t.off", compute, x=1)
    cached("t.off", compute, x=1)
    assert len(calls) == 2


def test_a_code_change_makes_entries_stale(monkeypatch):
    compute, calls = _counter()
    cached("t.code", compute, x=1)
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda solver=None: "edited-source")
    cached("t.code", compute, x=1)
    assert len(calls) == 2


def test_key_is_stable_and_canonical():
    a = cache_mod.make_key("t", solver="ddlib.mfqf", model=Model(1.0, 0.5, 1.0), x=[1, 2])
    b = cache_mod.make_key("t", x=[1, 2], model=Model(1.0, 0.5, 1.0), solver="ddlib.mfqf")
    assert a == b
    assert json.loads(a)["code"] == code_fingerprint("ddlib.mfqf")
    assert cache_mod.make_key("t", solver="ddlib.mfqf", x=0.1) != \
        cache_mod.make_key("t", solver="ddlib.mfqf", x=0.1 + 1e-16 * 2)


def test_solver_modules_follow_imports():
    mods = solver_modules("ddlib.mfqf")
    assert {"ddlib.mfqf", "ddlib.model", "ddlib.lattice", "ddlib._numba"} <= set(mods)
    assert "ddlib.plots" not in mods and "ddlib.mpo" not in mods
    assert "ddlib.plots" not in solver_modules("ddlib.mpo")
    with pytest.raises(ValueError, match="solver"):
        solver_modules("numpy.linalg")


def _package(tmp_path):
    pkg = tmp_path / "fake"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "solver.py").write_text("from .helper import f\nfrom . import sub\n")
    (pkg / "helper.py").write_text("def f():\n    from .sub import deep\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("X = 1\n")
    (pkg / "plots.py").write_text("import fake.helper\n")
    return pkg


def test_per_solver_invalidation(tmp_path):
    pkg = _package(tmp_path)

    def fp(solver):
        cache_mod._fingerprint.cache_clear()
        cache_mod._closure.cache_clear()
        return code_fingerprint(solver, root=pkg, package="fake")

    assert solver_modules("fake.solver", root=pkg, package="fake") == \
        ["fake.helper", "fake.solver", "fake.sub", "fake.sub.deep"]
    before = fp("fake.solver")
    (pkg / "plots.py").write_text("import fake.helper\n# a new label\n")
    assert fp("fake.solver") == before  # editing plots leaves the solver's entries valid
    (pkg / "sub" / "deep.py").write_text("X = 2\n")
    assert fp("fake.solver") != before  # a module it imports (transitively) changed
    plots = fp("fake.plots")
    (pkg / "helper.py").write_text("def f():\n    return 3\n")
    assert fp("fake.plots") != plots


def test_docstrings_and_comments_leave_the_fingerprint(tmp_path):
    """A docstring (doctest examples included), a comment or a blank line cannot change a
    result, so editing one keeps hours of archived and cached results fresh; code does not."""
    pkg = _package(tmp_path)

    def fp():
        cache_mod._fingerprint.cache_clear()
        cache_mod._closure.cache_clear()
        return code_fingerprint("fake.solver", root=pkg, package="fake")

    helper = pkg / "helper.py"
    helper.write_text("def f():\n    from .sub import deep\n    return 2 * deep.X\n")
    before = fp()
    helper.write_text('"""Helper module.\n\n>>> 1 + 1\n2\n"""\n\n# why f doubles\n'
                      'def f():\n    """Twice X."""\n    from .sub import deep\n\n'
                      '    return 2 * deep.X  \n')
    assert fp() == before
    helper.write_text("def f():\n    from .sub import deep\n    return 3 * deep.X\n")
    assert fp() != before
    helper.write_text('def f():\n    from .sub import deep\n    "2"\n    return 2 * deep.X\n')
    assert fp() != before  # a string statement after the first is code, not a docstring


def test_solver_is_derived_from_compute_or_name(monkeypatch):
    seen = []
    monkeypatch.setattr(cache_mod, "code_fingerprint",
                        lambda solver=None: seen.append(solver) or "x")
    cached("mpo.steady_state", lambda: 1, x=1)
    cached("mine.scan", lambda: 1, x=1)
    cached("mine.scan2", lambda: 1, solver="ddlib.meanfield", x=1)
    assert seen[:3] == ["ddlib.mpo", None, "ddlib.meanfield"]


def _roundtrip(tmp_path, value):
    save(tmp_path / "entry", value, key="k")
    return load(tmp_path / "entry", "k")


def test_roundtrip_dict_of_arrays_and_numbers(tmp_path):
    value = {"mu": np.array([0.1, -0.2, 0.3]), "n": 3, "x": np.float64(2.5), "nan": np.nan,
             "inf": -np.inf, "z": 1 + 2j, "flags": np.array([True, False]),
             "s": "text", "none": None, "list": [1, (2.0, "a")], "tuple": (1, 2),
             "c": np.array([1j, 2.0]), "ns": types.SimpleNamespace(a=np.eye(2), b=True)}
    back = _roundtrip(tmp_path, value)
    assert back["mu"].tolist() == value["mu"].tolist() and back["n"] == 3
    assert back["x"] == 2.5 and np.isnan(back["nan"]) and back["inf"] == -np.inf
    assert back["z"] == 1 + 2j and back["flags"].dtype == bool and back["s"] == "text"
    assert back["none"] is None and back["list"] == [1, (2.0, "a")] and back["tuple"] == (1, 2)
    assert np.array_equal(back["c"], value["c"])
    assert np.array_equal(back["ns"].a, np.eye(2)) and back["ns"].b is True


def test_roundtrip_ddlib_records(tmp_path):
    model, lat = Model(1.6, 0.5, 1.0), lattice.hypercubic(4, 2)
    ss = mf.steady_states(model, 4)
    window = mf.bistable_range(0.5, 4.0)
    back = _roundtrip(tmp_path, {"model": model, "lattice": lat, "ss": ss, "w": window})
    assert back["model"] == model and back["lattice"] == lat
    assert np.array_equal(back["lattice"].bonds, lat.bonds)
    assert isinstance(back["ss"], mf.SteadyStates) and len(back["ss"]) == 3
    assert np.array_equal(back["ss"].mu, ss.mu) and back["ss"][0].kappa == ss[0].kappa
    assert isinstance(back["w"], mf.Window) and back["w"].lower == window.lower


def test_roundtrip_xarray(tmp_path):
    ds = xr.Dataset({"mu_x": (("Delta", "direction"), np.arange(6.0).reshape(3, 2)),
                     "converged": (("Delta", "direction"), np.ones((3, 2), bool)),
                     "message": (("Delta", "direction"), np.full((3, 2), "ok"))},
                    coords={"Delta": [1.0, 2.0, 3.0], "direction": ["up", "down"]},
                    attrs={"jumps": {"up": [[1.5, 2.0]]}, "solver": "mfqf"})
    back = _roundtrip(tmp_path, ds)
    xr.testing.assert_identical(back, ds)
    assert (tmp_path / "entry.nc").exists()
    da = ds.mu_x.rename("m")
    xr.testing.assert_identical(_roundtrip(tmp_path, da), da)


def test_unportable_values_are_never_pickled(tmp_path):
    with pytest.raises(TypeError, match=r"value\[0\] is a builtins.function"):
        save(tmp_path / "x", [lambda: 1])
    with pytest.raises(TypeError, match="object"):
        save(tmp_path / "x", {"a": np.array([None, 1])})
    compute, calls = _counter(value=[len])
    with pytest.raises(TypeError):
        cached("t.unportable", compute, portable=True, x=1)
    with pytest.warns(UnportableWarning, match="memory"):
        first = cached("t.unportable", compute, x=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cached("t.unportable", compute, x=2) is first  # kept in memory, not on disk
    assert not list((cache_dir() / "t.unportable").glob("*.json"))


def test_foreign_class_is_not_rebuilt(tmp_path):
    save(tmp_path / "e", {"m": Model(1.0, 0.5, 1.0)}, key="k")
    meta = json.loads((tmp_path / "e.json").read_text())
    meta["value"]["__dict__"]["m"]["__class__"] = "os:system"
    (tmp_path / "e.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="not a ddlib class"):
        load(tmp_path / "e", "k")


def test_roundtrip_steady_summary(tmp_path):
    from ddlib.results import SteadySummary

    s = SteadySummary(model=Model(1.5, 0.5, 1.0), mu=(0.1, 0.2, -0.9), converged=True,
                      message="converged", stable=None, kappa=float("nan"), solver="mfqf",
                      sigma=np.eye(3), lattice={"kind": "chain", "N": 8})
    back = _roundtrip(tmp_path, {"summary": s})["summary"]
    assert isinstance(back, SteadySummary) and back == s


def test_solver_keys_leave_out_the_orchestration_the_solver_runs_on():
    """exact.scan runs on sweep.grid, yet an exact point does not depend on sweep's code nor
    on every solver sweep knows: editing sweep.py must not make hours of results stale."""
    from ddlib.cache import solver_modules

    exact = solver_modules("ddlib.exact")
    assert "ddlib.exact" in exact and "ddlib.model" in exact
    assert not {"ddlib.sweep", "ddlib.cache", "ddlib.mfqf", "ddlib.meanfield"} & set(exact)
    assert "ddlib.sweep" in solver_modules("ddlib.sweep")  # asked for by name: keyed as usual


# ------------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    case(cached, "a/b", lambda: 1, param="name"),
    case(cached, "ok", 1, param="compute"),
    case(make_key, "", param="name"),
    case(code_fingerprint, 3, param="solver"),
    case(solver_modules, ["ddlib.no_such_module"], param="solver"),
    case(save, 3, 1.0, param="path"),
    case(save, "unused", 1.0, key=3, param="key"),
    case(load, None, param="path"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
