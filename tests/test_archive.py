"""The archive: provenance on every file, freshness against the current code, resumable make."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from badinput import bad_input_test, case

from ddlib import archive, exact, mpo

PROVENANCE = ("command", "ddlib_version", "git_commit", "solvers", "solver_fingerprint",
              "options", "created", "machine", "wall_time_s")


def test_every_archived_point_is_reproduced_by_the_current_code():
    """A sample of cheap points of each archived entry, recomputed now: a stale archive fails."""
    rows = archive.check()
    present = [r["name"] for r in archive.status() if r["present"]]
    assert {r["entry"] for r in rows} == set(present)
    bad = [r for r in rows if not r["ok"]]
    assert not bad, "archive no longer reproduced:\n" + "\n".join(map(str, bad))


@pytest.mark.parametrize("name", [r["name"] for r in archive.status() if r["present"]])
def test_archived_files_carry_their_provenance(name):
    ds = archive.load(name)
    missing = [k for k in PROVENANCE if k not in ds.attrs]
    assert not missing
    assert ds.attrs["entry"] == name and ds.attrs["wall_time_s"] >= 0
    assert ds.attrs["command"].startswith("python -m ddlib.archive make")


def test_solver_fingerprint_follows_the_solver_and_its_ddlib_imports_only():
    from ddlib.cache import solver_modules

    closure = solver_modules(["ddlib.meanfield"])
    assert "ddlib.model" in closure and "ddlib.meanfield" in closure
    assert not {"ddlib.exact", "ddlib.mpo", "ddlib.archive"} & set(closure)
    assert archive.solver_fingerprint(["ddlib.meanfield"]) != archive.solver_fingerprint(
        ["ddlib.exact"])


def test_status_calls_an_entry_stale_when_its_solver_code_changed(tmp_path):
    ds = xr.Dataset({"x": ("i", np.arange(3.0))})
    ds.attrs.update(archive.provenance(command="test", solvers=["ddlib.meanfield"],
                                       options=archive.ENTRIES["mf_response"].options))
    archive.save(ds, tmp_path / "mf_response.nc")
    row = next(r for r in archive.status(tmp_path) if r["name"] == "mf_response")
    assert row["present"] and row["fresh"] and row["stale"] == ""
    ds.attrs["solver_fingerprint"] = "0" * 16  # as if computed by other code
    archive.save(ds, tmp_path / "mf_response.nc")
    row = next(r for r in archive.status(tmp_path) if r["name"] == "mf_response")
    assert row["fresh"] is False and row["stale"] == "solver code changed"


def test_status_calls_an_entry_stale_when_its_recipe_changed(tmp_path, monkeypatch):
    """An entry made with other options than the recipe now in ENTRIES (a detuning appended,
    a χ added) does not show what the recipe says until it is remade."""
    ds = xr.Dataset({"x": ("i", np.arange(3.0))})
    ds.attrs.update(archive.provenance(command="test", solvers=["ddlib.meanfield"],
                                       options=archive.ENTRIES["mf_response"].options))
    archive.save(ds, tmp_path / "mf_response.nc")
    entry = archive.ENTRIES["mf_response"]
    monkeypatch.setitem(archive.ENTRIES, "mf_response", dataclasses.replace(
        entry, options={**entry.options, "added": [1.0]}))
    row = next(r for r in archive.status(tmp_path) if r["name"] == "mf_response")
    assert row["fresh"] is False and row["stale"] == "recipe changed"


def test_a_certified_check_makes_a_stale_entry_fresh_and_keeps_its_provenance(tmp_path,
                                                                             monkeypatch):
    entry = dataclasses.replace(archive.ENTRIES["fig4_fc"],
                                options={"lattice": "fc", "N": [3], "JZ": 6.0, "Omega": 0.5,
                                         "Delta": [2.5, 5.0, 3]})
    monkeypatch.setitem(archive.ENTRIES, "fig4_fc", entry)
    path = archive.make(["fig4_fc"], directory=tmp_path, progress=False)[0]
    ds = archive.load("fig4_fc", tmp_path)
    ds.attrs["solver_fingerprint"] = "0" * 16  # as if computed by older code
    archive.save(ds, path)
    assert next(r for r in archive.status(tmp_path) if r["name"] == "fig4_fc")["fresh"] is False
    rows = archive.check(["fig4_fc"], tmp_path, certify=True)
    assert rows and all(r["ok"] for r in rows)
    row = next(r for r in archive.status(tmp_path) if r["name"] == "fig4_fc")
    assert row["fresh"] and row["verified"]
    assert archive.load("fig4_fc", tmp_path).attrs["solver_fingerprint"] == "0" * 16


def test_list_prints_one_aligned_row_per_entry(capsys):
    """`python -m ddlib.archive list`: every entry once, its state in one column however long
    the entry's name or figure."""
    assert archive.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == list(archive.ENTRIES)
    starts = {ln.index(word) for ln in lines
              for word in ("fresh", "STALE", "missing") if f"  {word}" in ln}
    assert len(starts) == 1


def test_list_into_a_closed_pipe_ends_quietly():
    """`python -m ddlib.archive list | head -1`: the reader leaves before the listing is
    written; the command ends without a traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "ddlib.archive", "list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141), err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_make_resumes_from_cached_points(tmp_path, monkeypatch):
    """A second make (as after an interruption) recomputes no point: each is cached."""
    entry = dataclasses.replace(archive.ENTRIES["fig4_fc"],
                                options={"lattice": "fc", "N": [3], "JZ": 6.0, "Omega": 0.5,
                                         "Delta": [2.5, 5.0, 4]})
    monkeypatch.setitem(archive.ENTRIES, "fig4_fc", entry)
    archive.make(["fig4_fc"], directory=tmp_path, progress=False)
    calls = []
    real = exact.steady_state
    monkeypatch.setattr(exact, "steady_state", lambda *a, **k: calls.append(a) or real(*a, **k))
    archive.make(["fig4_fc"], directory=tmp_path, progress=False)
    assert calls == []
    ds = archive.load("fig4_fc", tmp_path)
    assert ds.bx.shape == (1, 4) and ds.attrs["solvers"] == "ddlib.exact"


BAD_INPUTS = [
    case(archive.load, "no_such_entry", param="name"),
    case(archive.make, ["fig4_fc"], workers=0, param="workers"),
    case(archive.solver_fingerprint, "ddlib.exact", param="modules"),
    case(archive.provenance, command="x", solvers=["ddlib.no_such_module"], param="solvers"),
    case(archive.save, {"x": 1}, "out.nc", param="ds"),
    case(archive.status, 3, param="directory"),
    case(archive.check, ["no_such_entry"], param="name"),
    case(archive.check, None, 3, param="directory"),
    case(archive.main, "list", param="argv"),
    case(archive.adopt, "cylinder_convergence", param="names"),  # a name, not a list
    case(archive.adopt, ["fig4_fc"], param="names"),  # not a ladder entry
    case(archive.adopt, ["cylinder_length"], "/nonexistent", param="names"),
    case(archive.compute_time, "x", param="ds"),
    case(archive.compute_time, xr.Dataset(), param="ds"),  # records no wall time
    case(archive.compute_time, xr.Dataset(attrs={"wall_time_s": "long"}), param="ds"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


def test_compute_time_counts_the_points_of_a_resumed_make():
    """A make that reads every point from the cache takes seconds; an entry that records its
    points' own wall time reports that instead."""
    ds = xr.Dataset(attrs={"wall_time_s": 14.0})
    assert archive.compute_time(ds) == 14.0
    assert archive.compute_time(ds.assign_attrs(points_wall_time_s=7200.0)) == 7200.0
    # an entry archived before it recorded the sum: its per-point seconds still count
    points = ds.assign(wall_time=("point", [3000.0, np.nan, 600.0]))
    assert archive.compute_time(points) == 3600.0


def _small_cylinder_recipe(**more):
    return {"Omega": 0.5, "JZ": 4.0, "dt": 0.5, "t_max": 3.0, "tol": 1e-2,
            "Delta": [1.0, 2.0], "cases": [[3, 4]], "chi": [4, 8], "keep_states": False,
            "workers": 1, "check_case": [3, 4], "check_chi": 4, "check_Delta": 1.0, **more}


def test_a_cylinder_ladder_extended_at_one_detuning_keeps_its_lower_rungs(tmp_path,
                                                                          monkeypatch):
    """chi_more climbs further at one Δ only: the other Δ are NaN on the new rung, and the
    rungs below are those of the shorter ladder (each rung starts from the one below, never
    from a later one)."""
    entry = archive.ENTRIES["cylinder_convergence"]
    monkeypatch.setitem(archive.ENTRIES, "cylinder_convergence", dataclasses.replace(
        entry, options=_small_cylinder_recipe(chi_more={"2": [12]})))
    archive.make(["cylinder_convergence"], directory=tmp_path, progress=False)
    ds = archive.load("cylinder_convergence", tmp_path)
    assert list(ds.chi.values) == [4, 8, 12]
    assert np.isnan(ds.mu_x.sel(Delta=1.0, chi=12)).all()
    assert not ds.converged.sel(Delta=1.0, chi=12).any()  # not computed, not converged
    assert np.isfinite(ds.mu_x.sel(Delta=2.0)).all()
    short = archive._mpo_ladder(_small_cylinder_recipe(), 2.0, (3, 4), [4, 8])
    np.testing.assert_array_equal(ds.mu_x.sel(Delta=2.0, chi=[4, 8]).values.ravel(),
                                  short["mu_x"])


def test_adopted_ladders_spare_a_grown_recipe_all_but_its_new_ladder(tmp_path, monkeypatch):
    """An entry made on another machine, whose cache is gone: adopt puts its archived ladders
    into this machine's cache, and a make of the recipe grown by one rung at one Δ computes
    that Δ's ladder alone, with the same numbers as a make from scratch."""
    entry = archive.ENTRIES["cylinder_convergence"]
    short, grown = _small_cylinder_recipe(), _small_cylinder_recipe(chi_more={"2": [12]})
    monkeypatch.setitem(archive.ENTRIES, "cylinder_convergence",
                        dataclasses.replace(entry, options=short))
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "there"))
    archive.make(["cylinder_convergence"], directory=tmp_path / "a", progress=False)
    monkeypatch.setitem(archive.ENTRIES, "cylinder_convergence",
                        dataclasses.replace(entry, options=grown))
    archive.make(["cylinder_convergence"], directory=tmp_path / "b", progress=False)
    from_scratch = archive.load("cylinder_convergence", tmp_path / "b")

    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "here"))  # a machine without that cache
    assert archive.adopt(["cylinder_convergence"], tmp_path / "a") == {"cylinder_convergence": 2}
    ladders = []
    real = mpo.chi_ladder
    monkeypatch.setattr(mpo, "chi_ladder", lambda model, lat, chis, **kw: ladders.append(
        (model.Delta, lat.N, list(chis))) or real(model, lat, chis, **kw))
    archive.make(["cylinder_convergence"], directory=tmp_path / "c", progress=False)
    assert (1.0, 12, [4, 8]) not in ladders and (2.0, 12, [4, 8, 12]) in ladders
    again = archive.load("cylinder_convergence", tmp_path / "c")
    for name in ("mu_x", "mu_z", "sigma_xx", "spread", "profile", "converged"):
        xr.testing.assert_identical(again[name], from_scratch[name])


def test_adopt_refuses_an_entry_the_current_code_has_not_reproduced(tmp_path, monkeypatch):
    entry = archive.ENTRIES["cylinder_convergence"]
    monkeypatch.setitem(archive.ENTRIES, "cylinder_convergence", dataclasses.replace(
        entry, options=_small_cylinder_recipe(Delta=[1.0])))
    path = archive.make(["cylinder_convergence"], directory=tmp_path, progress=False)[0]
    ds = archive.load("cylinder_convergence", tmp_path)
    ds.attrs["solver_fingerprint"] = "0" * 16  # as if computed by older code, not certified
    archive.save(ds, path)
    with pytest.raises(ValueError, match="check --certify cylinder_convergence"):
        archive.adopt(["cylinder_convergence"], tmp_path)


@pytest.mark.parametrize("more, message", [({"1.5": [12]}, "not among"),
                                           ({"2": [8]}, "must exceed")])
def test_chi_more_is_checked_before_any_work(more, message):
    with pytest.raises(ValueError, match=f"chi_more.*{message}"):
        archive._ladder_chis(_small_cylinder_recipe(chi_more=more))
