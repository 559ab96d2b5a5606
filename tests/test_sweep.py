"""Parameter scans: shapes and labels, point-by-point caching, and hysteresis.

The physics check: a warm-started continuation of MF *time evolution* over Δ must show the
hysteresis loop whose ends are the saddle-nodes that ``meanfield.bistable_range`` finds from
the discriminant — two independent routes to the same window.
"""

import os
import types

import numpy as np
import pytest
import xarray as xr
from badinput import bad_input_test, case

from ddlib import Model, lattice
from ddlib import meanfield as mf
from ddlib.results import SteadySummary
from ddlib.sweep import branch, continuation, grid, with_fallback

MODEL = Model(Delta=0.0, Omega=0.5, J=1.0)  # JZ = 4 with Z = 4
Z = 4


def relax(Delta, previous):
    """MF state reached by evolving from the previous point's state (all down at first)."""
    start = None if previous is None else previous.mu[-1]
    return mf.evolve(MODEL.replace(Delta=Delta), Z, 400.0, initial=start,
                     options=mf.EvolveOptions(n_times=2))


def final_mu(traj):
    return {"mu": traj.mu[-1]}


DELTAS = np.round(np.arange(0.9, 2.31, 0.05), 10)


@pytest.fixture(scope="module")
def hysteresis():
    """MF relaxation swept up and down in Δ across the bistable window (Ω = 0.5, JZ = 4)."""
    return continuation(relax, "Delta", DELTAS, observables=final_mu, name="test.mf_hysteresis",
                      key={"model": MODEL, "Z": Z}, dims={"mu": ["component"]},
                      jumped=lambda a, b: abs(a.mu[-1, 0] - b.mu[-1, 0]) > 0.1,
                      jump_tol=1e-4, progress=False)


def test_continuation_shows_the_mean_field_hysteresis_loop(hysteresis):
    ds, deltas = hysteresis, DELTAS
    assert ds.mu.dims == ("direction", "Delta", "component")
    assert list(ds.direction.values) == ["up", "down"]
    np.testing.assert_array_equal(ds.Delta.values, deltas)
    assert bool(ds.converged.all())
    w = mf.bistable_range(0.5, 4.0)
    mux = ds.mu.sel(component=0)
    for walk, edge in (("up", w.upper), ("down", w.lower)):
        jump = np.argmax(np.abs(np.diff(mux.sel(direction=walk).values)))
        assert deltas[jump] < edge < deltas[jump + 1]
        # bisection brackets the saddle-node (a trial just past it has not always left the
        # ghost of the fixed point by t = 400, hence the slack of 2e-4)
        ((last, off),) = ds.attrs["jumps"][walk]
        assert abs(off - last) <= 1e-4
        assert min(last, off) - 2e-4 < edge < max(last, off) + 2e-4
        # the state at the branch end approaches the saddle-node of the discriminant route
        # (as the square root of the distance in Δ: ~0.05 at 1e-4)
        ((end,),) = ([e["mu"] for e in ds.attrs["branch_ends"][walk]],)
        fold = w.mu_upper if walk == "up" else w.mu_lower
        assert np.linalg.norm(end - fold) < 0.1
    inside = (deltas > w.lower) & (deltas < w.upper)
    gap = np.abs(mux.sel(direction="up") - mux.sel(direction="down")).values
    assert np.all(gap[inside] > 0.1) and np.all(gap[~inside] < 1e-5)
    # every point is a stable fixed point
    for walk in ("up", "down"):
        for D, mu in zip(deltas, ds.mu.sel(direction=walk).values, strict=True):
            ss = mf.steady_states(MODEL.replace(Delta=D), Z)
            assert min(np.linalg.norm(mu - p.mu) for p in ss if p.stable) < 1e-5


def test_grid_labels_and_values():
    def solve(Delta, Omega):
        return mf.steady_states(MODEL.replace(Delta=Delta, Omega=Omega), Z)

    ds = grid(solve, {"Delta": [0.5, 1.6, 3.0], "Omega": [0.3, 0.5]},
              observables=lambda ss: {"n_stable": int(ss.stable.sum()),
                                      "muz_min": ss.mu[:, 2].min()},
              name="test.grid", key={"model": MODEL, "Z": Z}, progress=False)
    assert ds.n_stable.dims == ("Delta", "Omega")
    assert int(ds.n_stable.sel(Delta=1.6, Omega=0.5)) == 2
    assert int(ds.n_stable.sel(Delta=3.0, Omega=0.5)) == 1
    direct = mf.steady_states(MODEL.replace(Delta=0.5, Omega=0.3), Z).mu[:, 2].min()
    assert float(ds.muz_min.sel(Delta=0.5, Omega=0.3)) == direct


def test_points_are_cached_and_history_is_part_of_the_key():
    calls = []

    def solve(x, previous):
        calls.append((x, previous))
        return {"value": x, "from": previous["value"] if previous else np.nan}

    kwargs = dict(observables=lambda r: r, name="test.cache", key={"tag": 1}, progress=False)
    first = continuation(solve, "x", [1.0, 2.0, 3.0], direction="up", **kwargs)
    assert len(calls) == 3
    np.testing.assert_array_equal(first["from"].values[0], [np.nan, 1.0, 2.0])
    again = continuation(solve, "x", [1.0, 2.0, 3.0], direction="up", **kwargs)
    assert len(calls) == 3  # all from the cache
    assert again.identical(first)
    continuation(solve, "x", [1.0, 2.0, 3.0, 4.0], direction="up", **kwargs)
    assert len(calls) == 4  # the common prefix of the path is reused
    continuation(solve, "x", [1.0, 2.5, 3.0], direction="up", **kwargs)
    assert len(calls) == 6  # a different history is recomputed from where it differs


def Result(x, ok, seed):
    """A portable stand-in for a solver result."""
    return types.SimpleNamespace(x=x, converged=ok, seed=seed)


def test_failed_points_do_not_seed_the_next_warm_start():
    def solve(x, previous):
        return Result(x, x != 2.0, None if previous is None else previous.x)

    ds = continuation(solve, "x", [1.0, 2.0, 3.0], direction="up", name="test.fail",
                      observables=lambda r: {"seed": np.nan if r.seed is None else r.seed},
                      key={}, progress=False)
    np.testing.assert_array_equal(ds.converged.values[0], [True, False, True])
    np.testing.assert_array_equal(ds.seed.values[0], [np.nan, 1.0, 1.0])


def test_a_steep_continuous_change_is_not_a_jump():
    """tanh((x - 3)/0.05) changes by ~2 between grid points 1 apart, but is continuous:
    bisection finds no discontinuity; a true step at 3.3 is found."""
    def solve(x, previous, step=False):
        return Result(x, True, 2.0 * (x > 3.3) if step else np.tanh((x - 3) / 0.05))

    kwargs = dict(observables=lambda r: {"value": r.seed}, key={}, progress=False,
                  jumped=lambda a, b: abs(a.seed - b.seed) > 0.5, jump_tol=1e-4)
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    smooth = continuation(solve, "x", values, name="test.steep", **kwargs)
    assert smooth.attrs["jumps"] == {"up": [], "down": []}
    step = continuation(lambda x, p: solve(x, p, step=True), "x", values, name="test.step",
                        **kwargs)
    for walk in ("up", "down"):
        ((last, off),) = step.attrs["jumps"][walk]
        assert min(last, off) <= 3.3 <= max(last, off)


def test_a_failed_point_past_a_jump_gives_one_bracket():
    """Branch end at x = 3.6 and the solver fails at x = 4, the first point past it: the
    jump is bisected once (between 3 and 5; the failed trial counts as off the branch)."""
    def solve(x, previous):
        return Result(x, x != 4.0, None)

    ds = continuation(solve, "x", [1.0, 2.0, 3.0, 4.0, 5.0], name="test.jump_fail",
                      observables=lambda r: {"value": r.x}, key={}, progress=False,
                      direction="up", jumped=lambda a, b: (a.x > 3.6) != (b.x > 3.6),
                      jump_tol=1e-3)
    ((last, off),) = ds.attrs["jumps"]["up"]
    assert off - last <= 1e-3 and last <= 3.6 <= off


def test_branch_cuts_each_sweep_at_its_end(hysteresis):
    ds = hysteresis
    w = mf.bistable_range(0.5, 4.0)
    x, y = branch(ds, "mu", "up")
    assert np.all(np.diff(x) > 0) and y.shape == (x.size, 3)
    assert np.all(np.isnan(y[x > w.upper + 2e-4])) and not np.any(np.isnan(y[x < w.upper]))
    x, y = branch(ds, "mu", "down")
    assert np.all(np.isnan(y[x < w.lower - 2e-4])) and not np.any(np.isnan(y[x > w.lower]))


def test_fallback_replaces_unstable_warm_starts():
    """A warm start that lands on the unstable middle MF fixed point is replaced by the
    fallback (here: the stable state of the lower-Δ branch)."""
    def middle(Delta, previous):
        ss = mf.steady_states(MODEL.replace(Delta=Delta), Z)
        return ss[1] if len(ss) == 3 else ss[0]

    def lowest(Delta, previous):
        return mf.steady_states(MODEL.replace(Delta=Delta), Z)[0]

    step = with_fallback(middle, lowest)
    assert step(1.6, None).stable is False  # no previous result: nothing to fall back from
    assert step(1.6, lowest(1.5, None)).stable
    kept = step(1.0, lowest(0.9, None))  # unique, stable: kept
    np.testing.assert_array_equal(kept.mu, middle(1.0, None).mu)


def Big(x, seed):
    """A result holding a large field (as an MFQF state holds η on every site)."""
    return types.SimpleNamespace(x=x, converged=True, seed=seed,
                                 field=np.full(200_000, x))  # 1.6 MB


def slim(result):
    """What a scan keeps of a Big result."""
    return {"x": result.x, "mean": result.field.mean(), "converged": result.converged}


def _cache_bytes(name):
    from ddlib.cache import cache_dir

    return sum(f.stat().st_size for f in (cache_dir() / name).glob("*"))


def test_store_keeps_a_slim_form_on_disk_and_full_warm_starts_in_memory():
    seen = []

    def solve(x, previous):
        seen.append(previous)
        return Big(x, previous)

    kwargs = dict(observables=lambda k: {"mean": k["mean"]}, name="test.store", key={},
                  direction="up", progress=False)
    ds = continuation(solve, "x", [1.0, 2.0, 3.0], store=slim, **kwargs)
    np.testing.assert_array_equal(ds["mean"].values[0], [1.0, 2.0, 3.0])
    assert bool(ds.converged.all())
    # within a run the next point is warm-started from the whole previous result
    assert seen[0] is None and hasattr(seen[1], "field") and seen[1].x == 1.0
    assert _cache_bytes("test.store") < 3 * 10_000  # three slim entries, not 3 × 1.6 MB
    # resuming: cached points are not recomputed, the new one starts from the kept form
    longer = continuation(solve, "x", [1.0, 2.0, 3.0, 4.0], store=slim, **kwargs)
    assert len(seen) == 4 and seen[3] == slim(Big(3.0, None))
    np.testing.assert_array_equal(longer["mean"].values[0], [1.0, 2.0, 3.0, 4.0])
    # the default still stores (and observes) whole results, under a separate key
    full = continuation(solve, "x", [1.0, 2.0], observables=lambda r: {"mean": r.field.mean()},
                        name="test.store", key={}, direction="up", progress=False)
    assert len(seen) == 6 and _cache_bytes("test.store") > 3_000_000
    np.testing.assert_array_equal(full["mean"].values[0], [1.0, 2.0])


def test_grid_store_and_jumps_see_the_kept_form():
    ds = grid(lambda x: Big(x, None), {"x": [1.0, 2.0]}, observables=lambda k: {"mean": k["mean"]},
              name="test.grid_store", store=slim, progress=False)
    np.testing.assert_array_equal(ds["mean"].values, [1.0, 2.0])
    assert _cache_bytes("test.grid_store") < 2 * 10_000
    jumps = continuation(lambda x, p: Big(float(x > 2.5), None), "x", [1.0, 2.0, 3.0],
                         observables=lambda k: {"mean": k["mean"]}, name="test.jump_store",
                         key={}, direction="up", store=slim, progress=False,
                         jumped=lambda a, b: abs(a["mean"] - b["mean"]) > 0.5, jump_tol=1e-2)
    ((last, off),) = jumps.attrs["jumps"]["up"]
    assert last <= 2.5 <= off and off - last <= 1e-2
    assert jumps.attrs["branch_ends"]["up"][0]["mean"] == 0.0


def test_fallback_reads_stability_from_a_kept_mapping():
    """A kept form that is a mapping carries ``stable`` as a key: an unstable one is rejected
    like an unstable result, and the fallback gets the previous (kept) form as it is."""
    got = []

    def fallback(x, previous):
        got.append(previous)
        return {"x": x, "stable": True, "converged": True}

    step = with_fallback(lambda x, p: {"x": x, "stable": False, "converged": True}, fallback)
    kept = {"mu": np.zeros(3), "converged": True}  # no "eta": only what a slim store keeps
    assert step(1.0, kept)["stable"] and got == [kept]
    assert step(1.0, None)["stable"] is False  # nothing to fall back from


def slim_state(state):
    """What a sweep keeps of an MFQF steady state: its summary (no η field), which is also
    what the solver accepts as a warm start."""
    return state.summary()


@pytest.mark.slow
def test_a_slim_mfqf_sweep_resumed_from_the_cache_stays_on_its_branch():
    """MFQF on a periodic 10x10 lattice (Ω = 0.5, JZ = 4) swept up in Δ into its bistable
    window, following the stable branch (require_stable=True). Interrupted at Δ = 2.0 and
    resumed, the scan warm-starts Δ = 2.1 from the cached summary (μ and the model): it must reach
    the same stable low-Δ state as the uninterrupted scan, although the high-Δ branch's
    stable state coexists there."""
    from ddlib import lattice, mfqf

    lat = lattice.hypercubic(10, 2)
    base = Model(Delta=0.0, Omega=0.5, J=1.0)
    options = mfqf.SteadyOptions(require_stable=True)
    warm = []

    def step(Delta, previous):
        warm.append(previous)
        return mfqf.steady_state(base.replace(Delta=Delta), lat, previous, options=options)

    deltas = [1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2]
    kwargs = dict(observables=lambda s: {"mu": s.mu, "kappa": s.kappa}, direction="up",
                  key={"model": base, "lattice": lat, "options": options}, progress=False)
    whole = continuation(step, "Delta", deltas, name="test.mfqf_whole", **kwargs)
    continuation(step, "Delta", deltas[:5], name="test.mfqf_slim", store=slim_state, **kwargs)
    warm.clear()
    resumed = continuation(step, "Delta", deltas, name="test.mfqf_slim", store=slim_state,
                           **kwargs)
    assert len(warm) == 2 and isinstance(warm[0], SteadySummary)  # from the cache
    assert isinstance(warm[1], mfqf.SteadyState)  # computed in this run: the whole state
    assert bool(resumed.converged.all()) and bool((resumed.kappa > 0).all())
    np.testing.assert_allclose(resumed.mu.values, whole.mu.values, atol=1e-8)
    # the other branch: the state reached from strong detuning, at the resumed point
    high = mfqf.steady_state(base.replace(Delta=2.1), lat,
                             mfqf.steady_state(base.replace(Delta=2.6), lat), options=options)
    assert high.converged and high.stable
    assert float(resumed.mu.sel(Delta=2.1)[0, 0]) - high.mu[0] > 0.2


# ----------------------------------------------------------------------------- hysteresis API

from ddlib import sweep  # noqa: E402

JZ = 4.0
OMEGA = 0.5
MF_MODEL = Model(Delta=0.0, Omega=OMEGA, J=JZ)  # with Z = 1: J plays J𝒵


def test_mf_hysteresis_dataset_and_branch_ends_match_the_discriminant():
    """The sweeps' branch ends, bisected to 1e-7, are the saddle-nodes that
    meanfield.bistable_range finds independently as zeros of the cubic's discriminant."""
    ds = sweep.hysteresis(MF_MODEL, 1.0, "Delta", np.linspace(0.8, 2.4, 9), tol=1e-7,
                          progress=False)
    assert ds.mu_x.dims == ("Delta", "direction")
    assert list(ds.direction.values) == ["up", "down"]
    for var in ("mu_x", "mu_y", "mu_z", "kappa", "converged", "stable", "message",
                *(f"sigma_{ab}" for ab in sweep.PAIRS), *(f"lambda_{ab}" for ab in sweep.PAIRS)):
        assert var in ds, var
    assert bool(ds.converged.all()) and bool(ds.stable.all())
    window = mf.bistable_range(OMEGA, JZ)
    assert abs(float(ds.branch_end.sel(direction="up")) - window.upper) < 1e-6
    assert abs(float(ds.branch_end.sel(direction="down")) - window.lower) < 1e-6
    # critical slowing down at a saddle-node: kappa ~ sqrt(distance) -> small at the end
    assert float(ds.end_kappa.sel(direction="up")) < 0.01
    # inside the window the two sweeps sit on different branches (mu_z jumps by > 0.2)
    inside = ds.sel(Delta=1.6)
    assert float(inside.mu_z.sel(direction="up") - inside.mu_z.sel(direction="down")) < -0.2
    # outside they agree
    np.testing.assert_allclose(ds.mu_x.sel(Delta=1.0).values, ds.mu_x.sel(Delta=1.0)[0])
    x, y = sweep.branch(ds, "mu_x", "up")
    assert x[-1] == 2.4 and np.isnan(y[-1]) and float(ds.branch_end[0]) in x


@pytest.mark.parametrize("param, JZ_, lo, hi", [("Delta", 4.0, 0.5, 3.0),
                                                ("Delta", 6.0, 0.5, 5.0)])
def test_mf_bistable_window_to_tol(param, JZ_, lo, hi):
    model = MF_MODEL.replace(J=JZ_)
    got = sweep.bistable_window(model, 1.0, param, lo, hi, tol=1e-5, progress=False)
    w = mf.bistable_range(OMEGA, JZ_)
    assert got is not None
    assert abs(got[0] - w.lower) < 1e-5 and abs(got[1] - w.upper) < 1e-5


def test_mf_bistable_window_in_omega_for_the_ising_model():
    model = Model(Delta=0.0, Omega=1.0, J=-6.0, coupling="ising")
    (w,) = mf.bistable_windows(model, 1.0, over="Omega")
    got = sweep.bistable_window(model, 1.0, "Omega", 0.5, 4.0, tol=1e-4, progress=False)
    assert abs(got[0] - w.lower) < 1e-4 and abs(got[1] - w.upper) < 1e-4


def test_no_window_below_the_cusp_and_a_lattice_gives_its_Z():
    assert sweep.bistable_window(MF_MODEL.replace(J=1.0), 1.0, "Delta", 0.0, 4.0,
                                 progress=False) is None
    from ddlib import lattice

    square = lattice.hypercubic(4, 2)
    got = sweep.bistable_window(MF_MODEL.replace(J=1.0), square, "Delta", 0.5, 3.0,
                                tol=1e-4, solver="meanfield", progress=False)
    w = mf.bistable_range(OMEGA, 4.0)
    assert abs(got[0] - w.lower) < 1e-4 and abs(got[1] - w.upper) < 1e-4


def test_a_failing_point_is_recorded_as_missing_and_the_sweep_goes_on(monkeypatch):
    real = mf.steady_states

    def flaky(model, Z):
        if model.Delta == 1.5:
            raise np.linalg.LinAlgError("singular test matrix")
        return real(model, Z)

    monkeypatch.setattr(mf, "steady_states", flaky)
    ds = sweep.hysteresis(MF_MODEL, 1.0, "Delta", [1.0, 1.5, 2.0], name="test.flaky",
                          progress=False)
    bad = ds.sel(Delta=1.5)
    assert not bool(bad.converged.any()) and bool(np.isnan(bad.mu_x).all())
    assert "singular test matrix" in str(bad.message.values[0])
    assert bool(ds.converged.sel(Delta=[1.0, 2.0]).all())


def test_hysteresis_points_are_cached_and_resumed(monkeypatch):
    calls = []
    real = mf.steady_states
    monkeypatch.setattr(mf, "steady_states", lambda m, Z: calls.append(m) or real(m, Z))
    values = np.linspace(1.0, 2.0, 6)
    first = sweep.hysteresis(MF_MODEL, 1.0, "Delta", values, name="test.resume",
                             progress=False)
    assert len(calls) == 12
    again = sweep.hysteresis(MF_MODEL, 1.0, "Delta", values, name="test.resume",
                             progress=False)
    assert len(calls) == 12  # every point read back from the cache
    xr.testing.assert_identical(first, again)
    sweep.hysteresis(MF_MODEL, 1.0, "Delta", np.append(values, 2.2), name="test.resume",
                     progress=False)
    assert len(calls) == 12 + 1 + 7  # up: one more point; down: a new path from 2.2


# ----------------------------------------------------------------------------- dask

@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each (what parallel=True starts by itself)."""
    distributed = pytest.importorskip("dask.distributed")
    import sys

    import cloudpickle

    # the workers cannot import this test module: ship its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])

    cluster = sweep.local_cluster(2)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_the_local_cluster_gives_each_worker_one_task_at_a_time(client):
    """run_parallel's cluster queues tasks on the scheduler (worker-saturation 1.0), so a
    task listed early never waits on a busy worker while another one is free."""
    sat = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION)
    assert sat == 1.0
    assert all(w["nthreads"] == 1 for w in client.scheduler_info()["workers"].values())


def test_the_local_cluster_workers_run_no_profiler(client):
    """The workers' profiler thread (dashboard only) takes the GIL every 10 ms: off."""
    on = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    assert len(on) == 2 and not any(on.values())


def test_the_local_cluster_keeps_its_bookkeeping_quiet(client):
    """The event-loop probe, the system and memory monitors wake at most once a second and
    nothing balances queued work (there is none to steal): an idle cluster takes 0.3 s of
    CPU per 20 s instead of 2.2 s, time that two busy workers on two cores would lose."""
    every = client.run(lambda dask_worker: {k: v.callback_time for k, v in
                                             dask_worker.periodic_callbacks.items()})
    assert len(every) == 2
    for ms in every.values():
        assert ms["tick"] >= 1000 and ms["memory_monitor"] >= 1000 and ms["monitor"] >= 5000
    sched = client.run_on_scheduler(lambda dask_scheduler: (
        {k: v.callback_time for k, v in dask_scheduler.periodic_callbacks.items()},
        set(dask_scheduler.extensions)))
    assert sched[0]["tick"] >= 1000 and "stealing" not in sched[1]


def _mf_point_mu(Delta, JZ):
    ss = mf.steady_states(MF_MODEL.replace(Delta=Delta, J=JZ), 1.0)
    return ss


def test_parallel_grid_and_sweeps_equal_serial(client, monkeypatch, tmp_path):
    axes = {"Delta": [1.0, 1.5, 2.0], "JZ": [2.0, 4.0]}
    obs = {"observables": lambda s: {"n_stable": int(s.stable.sum()), "mu": s.mu[0]},
           "dims": {"mu": ["a"]}, "progress": False, "solver": "ddlib.meanfield"}
    par = grid(_mf_point_mu, axes, name="test.pgrid", client=client, **obs)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path))  # serial: a fresh cache
    ser = grid(_mf_point_mu, axes, name="test.pgrid", **obs)
    xr.testing.assert_identical(par, ser)
    assert par.n_stable.sel(Delta=1.5, JZ=4.0) == 2
    many = dict(model=MF_MODEL, lattice=1.0, param="Delta", values=np.linspace(1.0, 2.2, 7),
                vary={"J": [3.0, 4.0]}, tol=1e-4, progress=False)
    p = sweep.hysteresis_many(**many, client=client)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "b"))
    s = sweep.hysteresis_many(**many, parallel=False)
    xr.testing.assert_identical(p, s)
    assert p.mu_x.dims == ("J", "Delta", "direction")


def test_a_killed_worker_loses_no_finished_point(client, tmp_path):
    """The point Delta = 2 kills its worker process the first time it runs; the scheduler
    reruns it on another worker, and every other point is on disk as soon as it finished."""
    marker = tmp_path / "killed-once"

    def solve(Delta):
        if Delta == 2.0 and not marker.exists():
            marker.touch()
            os._exit(1)
        return {"mu": mf.steady_states(MF_MODEL.replace(Delta=Delta), 1.0).mu[0],
                "converged": True}

    kwargs = dict(observables=lambda r: {"mu": r["mu"]}, name="test.kill", progress=False,
                  dims={"mu": ["a"]})
    ds = grid(solve, {"Delta": [1.0, 1.5, 2.0, 2.5]}, client=client, **kwargs)
    assert marker.exists() and bool(np.isfinite(ds.mu).all())
    calls = []
    again = grid(lambda Delta: calls.append(Delta) or solve(Delta),
                 {"Delta": [1.0, 1.5, 2.0, 2.5]}, **kwargs)
    assert calls == [] and bool((again.mu == ds.mu).all())  # all four were cached


def test_a_set_of_sweeps_runs_longest_first_and_equals_single_calls(client, monkeypatch,
                                                                     tmp_path):
    """hysteresis_set on 2 workers (an MF sweep, cost 1 per point, and an MFQF sweep on 6²,
    36 per point: submitted first) gives what separate serial hysteresis calls give; the
    jumps a walk crossed are bisected as tasks of their own, submitted once that walk has
    returned, below every walk in priority."""
    from ddlib import lattice

    square = lattice.hypercubic(6, 2)
    sweeps = [dict(model=MF_MODEL, lattice=1.0, param="Delta",
                   values=np.linspace(1.0, 2.2, 7), tol=1e-3),
              dict(model=Model(Delta=0.0, Omega=0.5, J=1.0), lattice=square, param="Delta",
                   values=np.linspace(1.0, 2.0, 3), direction="up")]
    submitted, submit = [], client.submit

    def spy(fn, task, *args, priority, **kwargs):  # the walk's sweep, or "_bisect"
        submitted.append(((task.args[2], task.args[12]) if task.func is sweep._walk
                          else task.func.__name__, priority))
        return submit(fn, task, *args, priority=priority, **kwargs)

    monkeypatch.setattr(client, "submit", spy)
    par = sweep.hysteresis_set(sweeps, client=client, progress=False)
    tasks, priorities = zip(*submitted, strict=True)
    assert tasks == ((square, "up"), (1.0, "up"), (1.0, "down"), "_bisect", "_bisect")
    assert priorities[0] > priorities[1] > priorities[2] > max(priorities[3:])
    assert np.isfinite(par[0].branch_end).all()
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path))
    ser = [sweep.hysteresis(**kw, progress=False) for kw in sweeps]
    for p, s in zip(par, ser, strict=True):
        xr.testing.assert_identical(p, s)
    assert list(par[1].direction.values) == ["up"] and "R" in par[1].dims


def test_the_longest_bisection_starts_first(monkeypatch):
    """The second round (one task per jump) is ordered by the seconds the walk spent next to
    each jump, over the trials its bracket needs: with two workers, a slow branch end
    started last would leave one worker idle while the other finishes it."""

    def scan(*cuts):  # a finished walk whose jumps are bisected from (last, off)
        pending = [sweep._Bisection("up", (None, None, None, [last], off, None), seconds)
                   for last, off, seconds in cuts]
        return sweep._Scan([], ("up",), "Delta", np.array([0.0]), None, pending, None, None)

    scans = [scan((1.0, 1.1, 0.5), (2.0, 2.1, 8.0)), scan((3.0, 3.4, 2.0))]
    sweeps = [sweep._Sweep([lambda s=s: s], None, cost, 1e-3)
              for s, cost in zip(scans, (10, 1), strict=True)]
    rounds = []

    class Stop(Exception):
        pass

    def spy(tasks, **kwargs):
        if rounds:  # the bisections: which bracket each starts from
            rounds.append([task.args[4] for task in tasks])
            raise Stop
        rounds.append(len(tasks))
        return [task() for task in tasks]

    monkeypatch.setattr(sweep, "run_parallel", spy)
    with pytest.raises(Stop):
        sweep._run_sweeps(sweeps, parallel=False, workers=1, client=None, progress=False,
                          desc="")
    # 7 trials at 4 s each (the mean of the two points), 9 at 1 s, 7 at 0.25 s: the
    # sweeps' sizes (10 and 1) do not decide
    assert rounds == [2, [2.1, 3.4, 1.1]]


def test_run_parallel_serial_path():
    assert sweep.run_parallel([lambda: 1, lambda: 2], parallel=False, progress=False) == [1, 2]


@pytest.mark.slow
def test_mfqf_bistable_window_against_a_fine_grid_and_critical_slowing_down():
    """MFQF on a periodic 10x10 lattice (Ω = 0.5, J𝒵 = 4): the window's edges, bisected to
    1e-3, lie inside the last grid interval of a plain hysteresis sweep with steps of 0.005
    (no bisection), and κ at each edge is small next to its values inside the branches
    (critical slowing down at the end of a stable branch). About 45 s on one core."""
    from ddlib import lattice

    square = lattice.hypercubic(10, 2)
    model = Model(Delta=0.0, Omega=0.5, J=1.0)
    left, right = sweep.bistable_window(model, square, "Delta", 1.9, 2.4, tol=1e-3, n=11,
                                        progress=False)
    fine = sweep.hysteresis(model, square, "Delta", np.round(np.arange(1.95, 2.3001, 0.005), 6),
                            progress=False)
    up, down = (float(fine.branch_end.sel(direction=d)) for d in ("up", "down"))
    assert up - 1e-3 <= right <= up + 0.005 + 1e-3
    assert down - 0.005 - 1e-3 <= left <= down + 1e-3
    assert 2.0 < left < right < 2.3
    ds = sweep.hysteresis(model, square, "Delta", np.linspace(1.9, 2.4, 11), tol=1e-3,
                          progress=False)
    assert (float(ds.branch_end.sel(direction="down")), float(ds.branch_end.sel(
        direction="up"))) == (left, right)  # the same bisection, read from the cache
    assert bool((ds.end_kappa < 0.25 * ds.kappa.where(ds.converged).median()).all())
    assert bool((ds.end_kappa_imag == 0).all())  # a real eigenvalue: no Hopf
    assert bool(ds.stable.where(ds.converged, True).all())


def test_one_direction_and_describe():
    ds = sweep.hysteresis(MF_MODEL, 1.0, "Delta", np.linspace(1.0, 2.2, 7), direction="up",
                          tol=1e-3, progress=False)
    assert list(ds.direction.values) == ["up"] and ds.mu_x.shape == (7, 1)
    text = sweep.describe(ds, "MF")
    assert text.startswith("MF, sweep up: stable branch ends at Delta = 1.88")
    whole = sweep.hysteresis(MF_MODEL.replace(J=1.0), 1.0, "Delta", [1.0, 2.0], tol=1e-3,
                             progress=False)  # a steep crossover: bisection sees no jump
    assert sweep.describe(whole, indent="  ").startswith("  sweep up: stays on its branch")


def test_describe_prints_the_total_correlation_along_the_coupling():
    """XY sweeps report Σ_xx, Ising sweeps (σᶻσᶻ bonds) Σ_zz, read from the Dataset's
    coupling; MF has no connected correlations, so both print 0."""
    xy = sweep.hysteresis(MF_MODEL, 1.0, "Delta", np.linspace(1.0, 2.2, 5), tol=1e-3,
                          progress=False)
    ising = sweep.hysteresis(Model(Delta=0.0, Omega=1.0, J=-6.0, coupling="ising"), 1.0,
                             "Omega", np.linspace(0.5, 4.0, 8), tol=1e-3, progress=False)
    assert xy.attrs["coupling"] == "xy" and ising.attrs["coupling"] == "ising"
    assert "Σ_xx = 0" in sweep.describe(xy) and "Σ_zz" not in sweep.describe(xy)
    assert "Σ_zz = 0" in sweep.describe(ising) and "Σ_xx" not in sweep.describe(ising)
    assert "Σ_xy = 0" in sweep.describe(ising, component="xy")


def test_each_sweep_counts_its_jumps_and_where_it_leaves_its_last_branch():
    """MF has two stable branches: each sweep jumps once (at a saddle-node of the cubic,
    meanfield.bistable_range), so its last branch end is its first; on a grid (no tol) the
    jumps are not bisected and not counted."""
    ds = sweep.hysteresis(MF_MODEL, 1.0, "Delta", np.linspace(0.8, 2.4, 9), tol=1e-6,
                          progress=False)
    window = mf.bistable_range(OMEGA, JZ)
    assert ds.n_jumps.values.tolist() == [1, 1]
    np.testing.assert_array_equal(ds.last_end.values, ds.branch_end.values)
    assert abs(float(ds.last_end.sel(direction="up")) - window.upper) < 1e-5
    plain = sweep.hysteresis(MF_MODEL, 1.0, "Delta", np.linspace(0.8, 2.4, 9), progress=False)
    assert "last_end" not in plain and "n_jumps" not in plain


def test_far_tol_ends_a_branch_where_correlations_cross_it():
    """The far_tol test on kept records (eta_far crossing the threshold is a jump)."""
    jumped = sweep._mu_jump(0.15, 0.01)
    a = {"mu": np.zeros(3), "eta_far": 0.001}
    assert not jumped(a, {"mu": np.full(3, 0.1), "eta_far": 0.009})
    assert jumped(a, {"mu": np.zeros(3), "eta_far": 0.02})
    assert jumped(a, {"mu": np.array([0.2, 0, 0]), "eta_far": 0.0})
    assert not sweep._mu_jump(0.15, None)(a, {"mu": np.zeros(3), "eta_far": 0.5})


def test_any_model_parameter_can_be_swept_and_options_are_checked_first():
    ds = sweep.hysteresis(MF_MODEL, 1.0, "Gamma", [0.5, 1.0], progress=False)
    assert bool(ds.converged.all())
    from ddlib import lattice, mfqf

    with pytest.raises(ValueError, match="require_stable"):
        sweep.hysteresis(MF_MODEL, lattice.chain(8), "Delta", [1.0],
                         options=mfqf.SteadyOptions(kappa=False), progress=False)
    with pytest.raises(TypeError, match="options"):
        sweep.hysteresis(MF_MODEL, lattice.chain(8), "Delta", [1.0], options={"tol": 1},
                         progress=False)


def test_a_cached_record_warm_starts_as_a_steady_summary():
    from ddlib.results import SteadySummary

    rec = sweep._failed_record("mfqf", MF_MODEL, "", 8)
    rec.update(mu=np.array([0.1, 0.2, -0.9]), converged=True, stable=True, kappa=0.3)
    warm = sweep._warm(rec)
    assert isinstance(warm, SteadySummary) and warm.model == MF_MODEL
    assert warm.mu == (0.1, 0.2, -0.9) and warm.stable is True and warm.solver == "mfqf"
    full = object()
    assert sweep._warm(full) is full and sweep._warm(None) is None  # results of this run


def test_mfqf_points_are_keyed_by_the_mfqf_code_not_by_this_module():
    from ddlib.cache import solver_modules

    assert "ddlib.sweep" not in solver_modules(sweep._CODE["mfqf"])
    assert "ddlib.sweep" in solver_modules(sweep._CODE["meanfield"])  # MF points chosen here


# ------------------------------------------------------------------------------- bad input

_TINY = xr.Dataset({"a": ("Delta", [1.0, 2.0])}, coords={"Delta": [0.0, 1.0]})
BAD_INPUTS = [
    case(grid, None, {"a": [1]}, observables=dict, name="t", param="solve"),
    case(grid, dict, {"a": [1, np.nan]}, observables=dict, name="t", param="axes"),
    case(continuation, dict, "a", [1, 1], observables=dict, name="t", param="values"),
    case(continuation, dict, "a", [1, 2], observables=dict, name="t", jumped=3,
         param="jumped"),
    case(grid, dict, {"a": [1]}, observables=dict, name="t", store=3, param="store"),
    case(continuation, dict, "a", [1, 2], observables=dict, name="t", store="mu",
         param="store"),
    case(branch, xr.Dataset(), "mu", "up", param="ds"),
    case(continuation, dict, "a", [1, 2], observables=dict, name="t", jump_tol=0,
         param="jump_tol"),
    # names or shapes that change between points: found at the second point
    case(grid, lambda a: {"a": a}, {"a": [1]}, observables=lambda r: r, name="t.clash",
         progress=False, param="observables"),
    case(continuation, lambda v, p: {"b": [0] * int(v)}, "a", [1, 2],
         observables=lambda r: r, name="t.shape", progress=False, param="observables"),
    case(sweep.grid, relax, {}, observables=final_mu, name="t", param="axes"),
    case(sweep.grid, "relax", {"Delta": [1.0]}, observables=final_mu, name="t",
         param="solve"),
    case(sweep.continuation, relax, "", [1.0, 2.0], observables=final_mu, name="t",
         param="param"),
    case(sweep.continuation, relax, "Delta", [1.0, 2.0], observables=final_mu, name="t",
         direction="sideways", param="direction"),
    case(sweep.with_fallback, relax, 3, param="fallback"),
    case(sweep.branch, _TINY, "b", "up", param="var"),
    case(sweep.branch, {"a": 1}, "a", "up", param="ds"),
    case(sweep.hysteresis, MODEL, 1.0, "Beta", [1.0, 2.0], param="param"),
    case(sweep.hysteresis, MODEL, 1.0, "Dleta", [1.0, 2.0], param="param"),
    case(sweep.hysteresis, MODEL, "square", "Delta", [1.0, 2.0], param="lattice"),
    case(sweep.hysteresis, MODEL, 1.0, "Delta", [1.0, 2.0], solver="exact", param="solver"),
    case(sweep.hysteresis, MODEL, 1.0, "Delta", [1.0, 2.0], tol=0.0, param="tol"),
    case(sweep.hysteresis, MODEL, 1.0, "Delta", [1.0, 2.0], jump=-1.0, param="jump"),
    case(sweep.hysteresis, MODEL, 1.0, "Delta", [1.0, np.nan], param="values"),
    # MFQF (the solver for a lattice) needs a periodic hypercubic one
    case(sweep.hysteresis, MODEL, lattice.chain(6, periodic=False), "Delta", [1.0],
         progress=False, param="lattice"),
    case(sweep.hysteresis, MODEL, lattice.cluster2d(8), "Delta", [1.0], progress=False,
         param="lattice"),
    case(sweep.hysteresis_many, MODEL, 1.0, "Delta", [1.0, 2.0], {}, param="vary"),
    case(sweep.hysteresis_set, {"model": MODEL}, param="sweeps"),
    case(sweep.hysteresis_set, [dict(model=MODEL, lattice=1.0, param="Delta",
                                     values=[1.0, 2.0], parallel=True)], param="sweeps"),
    case(sweep.bistable_window, MODEL, 1.0, "Delta", 2.0, 1.0, param="lo"),
    case(sweep.describe, _TINY, param="ds"),
    case(sweep.describe, _TINY, component="xw", param="component"),
    case(sweep.run_parallel, [relax, "task"], parallel=False, param="tasks"),
    case(sweep.run_parallel, [], workers=0, param="workers"),
    case(sweep.local_cluster, 0, param="workers"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
