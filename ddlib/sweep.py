"""Parameter scans: hysteresis sweeps and bistable windows, grids and continuation with warm
starts, cached point by point, serially or on dask.distributed workers.

For the steady states of the paper's models (MFQF on periodic hypercubic lattices, and MF):

* :func:`hysteresis` — one parameter swept up and down, each sweep following its stable
  branch; a labelled Dataset (μ, κ, Σ_ab, λ_ab, convergence) and where each branch ends.
* :func:`bistable_window` — the interval where two stable steady states coexist, its edges
  bisected to a tolerance.
* :func:`hysteresis_many` — several such sweeps (e.g. at several J𝒵) as parallel tasks.
* :func:`hysteresis_set` — several :func:`hysteresis` calls (e.g. on several lattices) as
  one set of parallel tasks, the longest first.

For example, on a laptop and then on a cluster's scheduler::

    ds = sweep.hysteresis(model, lattice.hypercubic(200, 2), "Delta", deltas, tol=1e-4)
    maps = sweep.hysteresis_many(model, lat, "Delta", deltas, vary={"J": JZ / lat.Z})
    maps = sweep.hysteresis_many(..., client=Client("tcp://scheduler:8786"))

Generic scans of any solver: the scan calls a function you give it and keeps, from each result, the
numbers an ``observables`` function extracts. Results are labelled :class:`xarray.Dataset`\\ s
whose coordinates are the scanned parameters, so ``ds.mux.sel(direction="up")`` or
``ds.kappa.plot()`` work directly.

* :func:`grid` — every combination of a few parameter arrays, independent points.
* :func:`continuation` — one parameter stepped through its values, each point warm-started from
  the previous point's result; ``direction="both"`` sweeps up and back down, which follows
  each branch of a bistable window to its end (hysteresis), and with ``jumped`` the end of
  each branch is located by bisection.

Every point is stored with :func:`ddlib.cache.cached` under the scan's ``name`` and ``key``
(the model, lattice and options the solver depends on) plus the point itself — and, for a
continuation, the path walked so far, since a warm-started result depends on its history. An
interrupted scan resumes where it stopped, and a finer or longer scan reuses what it can.

By default the whole result is stored. Results holding big fields (an MFQF steady state
carries η_ab(R) on every site: tens of MB at 200², GBs over a scan) can be stored slim with
``store=``: a function mapping a result to what is kept, e.g. ::

    def slim(s):  # an mfqf.SteadyState -> what the plots need
        return types.SimpleNamespace(mu=s.mu, kappa=s.kappa, stable=s.stable,
                                     total_correlation=s.total_correlation,
                                     correlation_length=s.correlation_length,
                                     converged=s.converged)
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import time
import types
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import xarray as xr
from tqdm import tqdm

from .cache import cached

__all__ = ["grid", "continuation", "with_fallback", "branch", "hysteresis", "hysteresis_many",
           "hysteresis_set", "bistable_window", "describe", "run_parallel", "local_cluster",
           "DIRECTIONS", "PAIRS"]

DIRECTIONS = ("up", "down", "both")


def _values(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty 1D array of finite numbers")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} must not repeat values")
    return arr


def _check_callable(name: str, f) -> None:
    if not callable(f):
        raise ValueError(f"{name} must be callable, got {type(f).__name__}")


def _collect(records: list[dict], shape: tuple, dims: tuple, coords: dict,
             extra_dims: Mapping[str, Sequence[str]] | None) -> xr.Dataset:
    """Stack per-point observables (same names and shapes at every point) into a Dataset."""
    names = list(records[0])
    clash = set(names) & set(coords)
    if clash:
        raise ValueError(f"observables must not reuse a coordinate name, got {sorted(clash)}")
    data = {}
    for var in names:
        try:
            stacked = np.stack([np.asarray(r[var]) for r in records])
        except (KeyError, ValueError) as err:
            raise ValueError(f"observables must return the same names and shapes at every "
                             f"point; {var!r} does not ({err})") from None
        own = tuple((extra_dims or {}).get(var, ()))
        tail = stacked.shape[1:]
        if len(own) != len(tail):
            own = tuple(f"{var}_dim{i}" for i in range(len(tail)))
        data[var] = (dims + own, stacked.reshape(shape + tail))
    return xr.Dataset(data, coords=coords)


def _check_dataset(ds, needs: tuple[str, ...] = ()) -> None:
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if any(v not in ds for v in needs):
        missing = [v for v in needs if v not in ds]
        raise ValueError(f"ds must come from hysteresis(): it lacks {missing}")


def _check_store(store) -> None:
    if store is not None:
        _check_callable("store", store)


def _store_key(store) -> dict:
    """Cache-key entry of a ``store`` function (none for the default: old entries stay valid)."""
    if store is None:
        return {}
    return {"store": f"{getattr(store, '__module__', '')}."
                     f"{getattr(store, '__qualname__', type(store).__name__)}"}


def _kept(store, result):
    return result if store is None else store(result)


def _observe(observables, result) -> dict:
    obs = dict(observables(result))
    flag = _converged_flag(result)
    if "converged" not in obs and flag is not None:
        obs["converged"] = flag
    return obs


def grid(solve: Callable[..., Any], axes: Mapping[str, Sequence[float]], *,
         observables: Callable[[Any], Mapping[str, Any]], name: str,
         key: Mapping[str, Any] | None = None,
         dims: Mapping[str, Sequence[str]] | None = None,
         store: Callable[[Any], Any] | None = None, solver=None,
         progress: bool = True, parallel: bool = False, workers: int = 2,
         client=None) -> xr.Dataset:
    """Evaluate ``solve(**point)`` on every point of a grid, each point cached.

    Parameters
    ----------
    solve : callable
        ``solve(**point) -> result``; ``point`` maps each axis name to a float.
    axes : mapping of str to 1D array
        The scanned parameters, e.g. ``{"Delta": ..., "JZ": ...}`` (order = dimension order).
    observables : callable
        ``observables(result) -> {name: scalar or array}``, the same names and shapes at every
        point. A result with a ``converged`` attribute adds a boolean ``converged`` variable.
    name : str
        Cache name (e.g. ``"mfqf.grid"``).
    key : mapping, optional
        Everything ``solve`` depends on besides the point (model, lattice, options), for the
        cache key.
    dims : mapping of str to sequence of str, optional
        Dimension names of array observables (default ``<var>_dim0``, …).
    store : callable, optional
        ``store(result) -> kept``: what is cached of each point instead of the whole result
        (e.g. μ, κ, Σ, λ and ``converged`` of a steady state, not its η field).
        ``observables`` then sees ``kept``, for a freshly computed point and a cached one
        alike, so ``kept`` must carry what it uses (and ``converged``, as an attribute or a
        key, if the result has it). The function's qualified name is part of the cache
        key: rename it (or the scan) when you change what it keeps.
    solver : str or sequence of str, optional
        The ddlib module(s) ``solve`` runs (e.g. ``"ddlib.mfqf"``): their code keys the cache
        entries (:func:`ddlib.cache.cached`); default: the whole package.
    progress : bool
        Show a tqdm bar.
    parallel : bool, default False
        Compute the points on a dask ``LocalCluster`` of ``workers`` processes with one
        thread each (:func:`run_parallel`); each point is cached by the worker as soon as it
        finishes, so a killed worker or an interrupted run loses no finished point. The
        result is the same as the serial one. ``solve``, ``observables`` and ``store`` must
        then be picklable by cloudpickle (lambdas and closures are).
    workers : int, default 2
        Worker processes of the local cluster.
    client : dask.distributed.Client, optional
        Run on this (existing) scheduler instead, e.g. a cluster's; implies ``parallel``.

    Returns
    -------
    xarray.Dataset
        Dimensions: the axes (then each observable's own); coordinates: the axis values.

    Raises
    ------
    ValueError
        For a non-callable ``solve``/``observables``, an empty or non-finite axis, or
        observables whose names or shapes change between points.
    """
    _check_callable("solve", solve)
    _check_callable("observables", observables)
    _check_store(store)
    if not isinstance(axes, Mapping) or not axes:
        raise ValueError("axes must be a non-empty mapping of parameter name to values")
    coords = {k: _values(f"axes[{k!r}]", v) for k, v in axes.items()}
    key = dict(key or {}, **_store_key(store))
    names = tuple(coords)
    points = [dict(zip(names, (float(v) for v in values), strict=True))
              for values in itertools.product(*coords.values())]
    tasks = [functools.partial(_grid_point, solve, observables, store, name, key, solver, p)
             for p in points]
    records = run_parallel(tasks, parallel=parallel, workers=workers, client=client,
                           progress=progress, desc=name)
    shape = tuple(len(v) for v in coords.values())
    return _collect(records, shape, names, coords, dims)


def _grid_point(solve, observables, store, name, key, solver, point) -> dict:
    """One point of :func:`grid`: computed (or read from the cache) and observed."""
    result = cached(name, lambda: _kept(store, solve(**point)), solver=solver, **key,
                    point=point)
    return _observe(observables, result)


def continuation(solve: Callable[[float, Any], Any], param: str, values: Sequence[float], *,
                 observables: Callable[[Any], Mapping[str, Any]], name: str,
                 key: Mapping[str, Any] | None = None, direction: str = "both",
                 dims: Mapping[str, Sequence[str]] | None = None,
                 jumped: Callable[[Any, Any], bool] | None = None, jump_tol: float = 1e-3,
                 store: Callable[[Any], Any] | None = None, solver=None,
                 progress: bool = True, desc: str | None = None) -> xr.Dataset:
    """Follow a branch of solutions through ``values`` of one parameter, warm-starting each
    point from the previous one.

    ``"up"`` walks the values in increasing order, ``"down"`` in decreasing order; ``"both"``
    does the two walks independently (each from its own end), so in a bistable window the
    two sweeps stay on different branches and a hysteresis loop appears.

    Parameters
    ----------
    solve : callable
        ``solve(value, previous) -> result``: ``previous`` is the result at the last
        *converged* point of the walk (None at the first point or after no success yet).
    param : str
        Name of the parameter (the coordinate name).
    values : 1D array
        The values (any order; walked sorted).
    observables : callable
        ``observables(result) -> {name: scalar or array}``, as in :func:`grid`.
    name : str
        Cache name.
    key : mapping, optional
        Everything ``solve`` depends on besides the value (model, lattice, options).
    direction : {"up", "down", "both"}
    dims : mapping, optional
        Dimension names of array observables.
    jumped : callable, optional
        ``jumped(before, after) -> bool`` says whether two consecutive converged results lie
        on different branches (e.g. μ changed by more than a threshold). Each such jump is
        located by bisection between the two values, warm-starting every trial from the last
        result still on the branch, until the bracket is narrower than ``jump_tol``: the end
        of the branch being followed — of its *stable* part when ``solve`` accepts only
        stable states (e.g. ``mfqf.SteadyOptions(require_stable=True)``). That is a
        saddle-node (fold) in mean field, but it need not be a fold: an MFQF branch can lose
        stability before its fold (book chapter ``multistability``). A trial
        that does not converge counts as past the end. When the final bracket's two ends no
        longer differ by ``jumped``, the change was steep but continuous and no jump is
        recorded.
    jump_tol : float, default 1e-3
        Width of the bracket around each jump.
    store : callable, optional
        ``store(result) -> kept``: what is cached of each point instead of the whole result
        (e.g. μ, κ, Σ, λ and ``converged`` of a steady state, not its η field).
        ``observables``, ``jumped`` and ``branch_ends`` then see ``kept``, for a freshly
        computed point and a cached one alike, so ``kept`` must carry what they use (and
        ``converged``, as an attribute or a key, if the result has it). ``solve``'s
        ``previous`` is the whole result when that point was computed in this run (a full
        warm start) and ``kept`` when it came from the cache (where a scan resumes), so
        ``solve`` must accept both. The function's qualified name is part of the cache key:
        rename it (or the scan) when you change what it keeps.
    solver : str or sequence of str, optional
        The ddlib module(s) ``solve`` runs, whose code keys the cache entries (default: the
        whole package).
    progress : bool

    Returns
    -------
    xarray.Dataset
        Dimensions ``(direction, param, ...)`` (``direction`` coordinate ``["up"]``,
        ``["down"]`` or ``["up", "down"]``); ``param`` increasing in every direction. With
        ``jumped``, ``ds.attrs["jumps"]`` maps each direction to a list of brackets
        ``(last value on the branch, first value past the jump)``, in walking order, and
        ``ds.attrs["branch_ends"]`` the observables of the result at each ``last`` value
        (e.g. the state, or its relaxation rate, right at a branch end).

    Raises
    ------
    ValueError
        For a bad ``param``, ``values``, ``direction`` or non-callable arguments.
    """
    _check_callable("solve", solve)
    _check_callable("observables", observables)
    if not isinstance(param, str) or not param:
        raise ValueError(f"param must be a non-empty string, got {param!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    grid_values = np.sort(_values("values", values))
    _check_store(store)
    key = dict(key or {}, **_store_key(store))
    if jumped is not None:
        _check_callable("jumped", jumped)
    if not (isinstance(jump_tol, Real) and jump_tol > 0):
        raise ValueError(f"jump_tol must be a positive number, got {jump_tol!r}")
    walks = ("up", "down") if direction == "both" else (direction,)
    scan = _scan(_stepper(solve, name, key, store, solver, param), param, grid_values, walks,
                 observables, dims, jumped, progress, desc or name)
    return scan.finish([_bisect(*job.args, jump_tol) for job in scan.pending])


def _stepper(solve, name: str, key: Mapping[str, Any], store, solver, param: str):
    """``step(value, previous, path) -> _Point``: one continuation point, cached under its
    path from the start of its walk."""
    def step(value: float, previous: _Point | None, path: list[float]) -> _Point:
        fresh = []

        def compute():
            fresh.append(solve(value, None if previous is None else previous.warm))
            return _kept(store, fresh[0])

        kept = cached(name, compute, solver=solver, **key, param=param, path=path)
        return _Point(kept, fresh[0] if fresh else kept)

    return step


class _Bisection(NamedTuple):
    """A jump found by a walk, to be located by :func:`_bisect` (``args`` without the
    bracket tolerance): which walk, the arguments, and the seconds the walk spent on the two
    points either side of the jump (a point cached before costs ~0).
    """

    walk: str
    args: tuple  # (step, jumped, on_branch, path, off, off_result)
    seconds: float = 0.0

    def cost(self, tol: float) -> float:
        """Estimated seconds of its bisection to ``tol``: the trials (one per halving of
        the bracket) at the mean cost of the points either side, where points converge
        slowest (near a branch end). Only orders the tasks."""
        last, off = self.args[3][-1], self.args[4]
        trials = max(1.0, np.ceil(np.log2(max(abs(off - last) / tol, 1.0))))
        return trials * self.seconds / 2


@dataclasses.dataclass
class _Scan:
    """The grid points of the walks of a :func:`continuation`, with the jumps they crossed
    still to be bisected (``pending``, in walking order); ``finish`` assembles the Dataset
    from the bisections' results (one per pending jump, same order)."""

    records: list
    walks: tuple
    param: str
    grid_values: np.ndarray
    dims: Mapping | None
    pending: list
    observables: Callable
    jumped: Callable | None

    def finish(self, found: Sequence) -> xr.Dataset:
        ds = _collect(self.records, (len(self.walks), self.grid_values.size),
                      ("direction", self.param),
                      {"direction": list(self.walks), self.param: self.grid_values}, self.dims)
        if self.jumped is not None:
            jumps: dict[str, list] = {w: [] for w in self.walks}
            ends: dict[str, list] = {w: [] for w in self.walks}
            for job, hit in zip(self.pending, found, strict=True):
                if hit is not None:
                    jumps[job.walk].append(hit[:2])
                    ends[job.walk].append(_observe(self.observables, hit[2].kept))
            ds.attrs["jumps"], ds.attrs["branch_ends"] = jumps, ends
        return ds


def _scan(step, param, grid_values, walks, observables, dims, jumped, progress,
          desc) -> _Scan:
    """Walk the grid in each direction of ``walks``, each point warm-started from the last
    converged one; a jump between two converged points is recorded for bisection, which
    does not change the walk (it goes on from the point past the jump)."""
    records: list[dict] = []
    pending: list[_Bisection] = []
    bar = tqdm(total=len(walks) * grid_values.size, desc=desc, disable=not progress)
    for walk in walks:
        order = [float(v) for v in (grid_values if walk == "up" else grid_values[::-1])]
        previous, previous_path, by_value, previous_seconds = None, [], {}, 0.0
        for k, v in enumerate(order):
            path = order[:k + 1]
            start = time.perf_counter()
            point = step(v, previous, path)
            seconds = time.perf_counter() - start
            result = point.kept
            if _converged(result):
                if jumped is not None and previous is not None \
                        and jumped(previous.kept, result):
                    pending.append(_Bisection(walk, (step, jumped, previous, previous_path,
                                                     v, result), previous_seconds + seconds))
                previous, previous_path, previous_seconds = point, path, seconds
            by_value[v] = _observe(observables, result)
            bar.update()
        records.extend(by_value[float(v)] for v in grid_values)
    bar.close()
    return _Scan(records, tuple(walks), param, grid_values, dims, pending, observables, jumped)


class _Point(NamedTuple):
    """A continuation point: what is cached (and observed) and what warm-starts the next."""

    kept: Any
    warm: Any


def _bisect(step, jumped, on_branch: _Point, path: list[float], off: float, off_result,
            tol: float):
    """Shrink the bracket (path[-1], off) around a branch end; trials warm-start from the
    last result still on the branch, and their cache paths extend that result's path.

    Returns the bracket and the last point on the branch, or None when the two ends of
    the final bracket are no longer apart (a steep but continuous change, not a jump)."""
    last = path[-1]
    while abs(off - last) > tol:
        mid = 0.5 * (last + off)
        trial = step(mid, on_branch, path + [mid])
        if _converged(trial.kept) and not jumped(on_branch.kept, trial.kept):
            on_branch, path, last = trial, path + [mid], mid
        else:
            off, off_result = mid, trial.kept
    if _converged(off_result) and not jumped(on_branch.kept, off_result):
        return None
    return last, off, on_branch


def _flag(result, name: str) -> bool | None:
    """A result's boolean attribute ``name`` (or key, for a mapping such as a kept form),
    None if it has none (or it is None)."""
    value = result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)
    return None if value is None else bool(value)


def _converged_flag(result) -> bool | None:
    """A result's ``converged`` attribute (or key, for a mapping), None if it has none."""
    return _flag(result, "converged")


def _converged(result) -> bool:
    return _converged_flag(result) is not False


def _accepted(result) -> bool:
    return _converged(result) and _flag(result, "stable") is not False


def with_fallback(step: Callable[[float, Any], Any],
                  fallback: Callable[[float, Any], Any]) -> Callable[[float, Any], Any]:
    """A continuation step that retries a rejected warm start another way.

    ``step(value, previous)`` is tried first (typically a root search warm-started at the
    previous result: fast, but it may land on an *unstable* fixed point once the followed
    branch has ended). When its result did not converge or has ``stable`` False (an
    attribute, or a key of a mapping), and there is a previous result,
    ``fallback(value, previous)`` is returned instead (typically time evolution from the
    previous state, which is what a slow physical sweep does).

    With ``continuation(..., store=...)``, ``previous`` is the *kept* form when a scan resumes
    from the cache, so ``fallback`` must use only what is kept (e.g.
    ``getattr(previous, "eta", None)``, not ``previous.eta``). MFQF steady states need no
    wrapper: ``mfqf.SteadyOptions(require_stable=True)`` rejects an unstable root and relaxes
    in time inside the solver, on the same lattice.

    Returns
    -------
    callable
        ``(value, previous) -> result``, for :func:`continuation`.
    """
    _check_callable("step", step)
    _check_callable("fallback", fallback)

    def combined(value, previous):
        result = step(value, previous)
        if previous is not None and not _accepted(result):
            result = fallback(value, previous)
        return result

    return combined


def branch(ds: xr.Dataset, var: str, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """One sweep of a :func:`hysteresis` or :func:`continuation` cut at the end of the branch
    it followed.

    Points past the sweep's first jump are dropped and the branch end (``branch_end`` and
    ``end_<var>`` of a :func:`hysteresis` Dataset; ``ds.attrs["branch_ends"]`` of a
    continuation) is appended, so a plot shows each branch up to where it ends and no line
    across the jump.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`hysteresis` result, or a continuation computed with ``jumped``.
    var : str
        Variable to return.
    direction : {"up", "down"}

    Returns
    -------
    x : ndarray, shape (m,)
        Parameter values, increasing.
    y : ndarray, shape (m, ...)
        ``var`` at those values (NaN past the jump).
    """
    _check_dataset(ds)
    if var not in ds:
        raise ValueError(f"var must be a variable of ds, got {var!r}")
    if "branch_end" in ds:
        if direction not in ds.direction.values:
            raise ValueError(f"direction must be one of {list(ds.direction.values)}, "
                             f"got {direction!r}")
        param = next(d for d in ds[var].dims if d != "direction")
        last = float(ds.branch_end.sel(direction=direction))
        end = ds[f"end_{var}"].sel(direction=direction).values if np.isfinite(last) else None
        y = ds[var].sel(direction=direction).transpose(param, ...).values
    else:
        if "jumps" not in ds.attrs:
            raise ValueError("ds must come from hysteresis() or continuation(..., jumped=...)")
        if direction not in ds.attrs["jumps"]:
            raise ValueError(f"direction must be one of {list(ds.attrs['jumps'])}, "
                             f"got {direction!r}")
        param = ds[var].dims[1]
        y = ds[var].sel(direction=direction).values
        brackets = ds.attrs["jumps"][direction]
        last = brackets[0][0] if brackets else np.nan
        end = ds.attrs["branch_ends"][direction][0][var] if brackets else None
    x = ds[param].values
    if end is None:
        return x, y
    keep = (x < last) if direction == "up" else (x > last)
    y = np.where(keep.reshape((-1,) + (1,) * (y.ndim - 1)), y, np.nan)
    x, y = np.append(x, last), np.concatenate([y, np.asarray(end, dtype=float)[None]])
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


# ----------------------------------------------------------------------------- parallel

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS")


def _in_worker(task: Callable[[], Any], env: Mapping[str, str]):
    """Run ``task`` in a worker process with the caller's cache directory and one thread
    per BLAS/numba pool (the settings a task saw serially), and malloc as serially."""
    os.environ.update(env)
    _serial_malloc()
    return task()


def _submit(client, task: Callable[[], Any], env: Mapping[str, str], priority: int):
    """``task`` on ``client`` through :func:`_in_worker` (higher ``priority`` first; never
    deduplicated with an equal task)."""
    return client.submit(_in_worker, task, env, pure=False, priority=priority)


@functools.cache
def _serial_malloc() -> None:
    """Let glibc keep freed arrays for reuse, as in a plain Python process.

    A dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes
    glibc's mmap threshold at 128 kB: every array above that (an MFQF field on 200² is
    6 MB) is then a fresh mmap whose pages fault in one by one. Measured on the Fig. 3
    sweeps: 5e7 page faults in 7 min and 45 % of the worker's CPU time in the kernel,
    against 4e4 faults in the serial process. Here the thresholds become glibc's dynamic
    maxima (mmap above 32 MiB, trim above 64 MiB). No-op without glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 2**20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 * 2**20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _worker_env() -> dict[str, str]:
    env = {var: os.environ.get(var, "1") for var in _THREAD_VARS}
    if "DDLIB_CACHE" in os.environ:
        env["DDLIB_CACHE"] = os.environ["DDLIB_CACHE"]
    return env


_QUIET = {
    # the event loops' latency probe: every 20 ms by default (it only logs a blocked loop)
    "distributed.admin.tick.interval": "1s",
    # psutil samples of CPU, memory, disk and network for the dashboard: every 500 ms
    "distributed.admin.system-monitor.interval": "5s",
    # the nannies' and workers' memory checks (spill, pause, restart): every 100 ms
    "distributed.worker.memory.monitor-interval": "1s",
    # with one task per worker at a time (worker-saturation 1) a worker holds no queued task
    # that another could steal; the balancing pass ran every 100 ms
    "distributed.scheduler.work-stealing": False,
}
"""dask settings of :func:`local_cluster` that cut the cluster's idle CPU time (2 workers:
from 2.2 s to 0.3 s of CPU per 20 s; benchmarks/README.md, "A quieter local cluster")."""


def local_cluster(workers: int = 2):
    """The ``dask.distributed.LocalCluster`` that :func:`run_parallel` starts: ``workers``
    processes of one thread each, no dashboard, and one task per worker at a time
    (``worker-saturation`` 1.0; dask's default 1.1 hands a 1-thread worker two tasks, so a
    queued task can wait behind a long one while another worker idles). The workers'
    statistical profiler is off: it feeds only the dashboard, and its thread, woken every
    10 ms to take the GIL, slowed each of two workers on two busy cores by 8–10 % (an MFQF
    sweep on 200², benchmarks/README.md). The cluster's own bookkeeping wakes up less often
    (``_QUIET``): with dask's defaults an idle 2-worker cluster takes 5 % of two cores
    (the scheduler, the nannies and each worker's event loop), CPU time that busy workers on
    a machine with as many cores as workers lose. Close it after use
    (``with local_cluster(2) as cluster, Client(cluster) as client: ...``).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    import logging

    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0,
                          "distributed.worker.profile.enabled": False, **_QUIET}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=logging.ERROR)


def run_parallel(tasks: Sequence[Callable[[], Any]], *, parallel: bool = True,
                 workers: int = 2, client=None, progress: bool = True,
                 desc: str | None = None) -> list:
    """``[task() for task in tasks]``, on dask.distributed workers or serially.

    Parameters
    ----------
    tasks : sequence of callables
        Independent tasks (no arguments). Each should cache what it computes (as the points
        of :func:`grid` and :func:`hysteresis` do), so that a worker killed mid-run, whose
        task the scheduler reruns elsewhere, or a run interrupted and started again, loses no
        finished point.
    parallel : bool, default True
        False runs the tasks here, in order (the same functions: the same results).
    workers : int, default 2
        Processes of the ``LocalCluster`` started (and closed) for this call, one thread each.
    client : dask.distributed.Client, optional
        An existing scheduler's client (``Client("tcp://scheduler:8786")``, or one of a
        ``dask_jobqueue`` cluster) to run on instead; it is left open.
    progress : bool
        tqdm bar over finished tasks.
    desc : str, optional
        Label of the bar.

    Returns
    -------
    list
        The tasks' values, in the order of ``tasks``.

    Notes
    -----
    The tasks start in the order given (each is submitted with a lower priority than the
    one before): list the longest first, and 2 workers finish together (longest processing
    time first, within 4/3 of the best schedule). The local cluster gives each worker one
    task at a time (``worker-saturation`` 1.0), so that a task waiting behind a long one on
    the same worker cannot happen; with ``client`` the scheduler's own setting applies.
    """
    tasks = list(tasks)
    for task in tasks:
        _check_callable("tasks[i]", task)
    if not parallel and client is None:
        return [task() for task in tqdm(tasks, desc=desc, disable=not progress)]
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    from dask.distributed import Client, as_completed  # lazy: import ddlib fast

    cluster = None
    if client is None:
        cluster = local_cluster(workers)
        client = Client(cluster)
    try:
        env = _worker_env()
        # earlier tasks first: a caller that lists its longest tasks first keeps the
        # workers balanced (dask starts queued tasks by priority, highest first)
        futures = [_submit(client, task, env, len(tasks) - i) for i, task in enumerate(tasks)]
        where = {f.key: i for i, f in enumerate(futures)}
        out: list = [None] * len(tasks)
        with tqdm(total=len(tasks), desc=desc, disable=not progress) as bar:
            for future in as_completed(futures):
                out[where[future.key]] = future.result()
                bar.update()
        return out
    finally:
        if cluster is not None:
            client.close()
            cluster.close()


# ----------------------------------------------------------------------------- hysteresis

PAIRS = tuple(a + b for a in "xyz" for b in "xyz")
"""Labels of the correlator components ab (``sigma_xy`` is Σ_xy)."""

_SOLVERS = ("mfqf", "meanfield")
_PARAMS = ("Delta", "Omega", "J", "Gamma")


def _mfqf_record(state) -> dict:
    """What a sweep keeps of an MFQF steady state (JSON-portable; no η field): the
    :class:`~ddlib.results.SteadySummary` fields plus Σ_ab, λ_ab, |η| at the farthest
    displacement and η_ab along one axis up to L/2."""
    eta = np.asarray(state.eta)
    half = tuple(n // 2 for n in eta.shape[2:])
    axis = (slice(None), slice(None), slice(0, half[0] + 1)) + (0,) * (eta.ndim - 3)
    return {"solver": "mfqf", "model": state.model, "mu": np.asarray(state.mu, float),
            "converged": bool(state.converged), "message": str(state.message),
            "stable": None if state.stable is None else bool(state.stable),
            "kappa": float(state.kappa), "kappa_imag": float(state.kappa_imag),
            "sigma": np.asarray(state.total_correlation, float),
            "lambda": np.asarray(state.correlation_length, float),
            "eta_far": float(np.abs(eta[(slice(None), slice(None)) + half]).max()),
            "eta_axis": np.array(eta[axis], float)}


def _failed_record(solver: str, model, message: str, L: int | None) -> dict:
    rec = {"solver": solver, "model": model, "mu": np.full(3, np.nan), "converged": False,
           "message": message, "stable": None, "kappa": np.nan, "kappa_imag": np.nan,
           "sigma": np.full((3, 3), np.nan), "lambda": np.full((3, 3), np.nan),
           "eta_far": np.nan}
    if L is not None:
        rec["eta_axis"] = np.full((3, 3, L // 2 + 1), np.nan)
    return rec


def _mf_point(model, Z: float, previous) -> dict:
    """The MF fixed point on the branch followed: the stable one nearest to the previous
    point's μ (to all spins down at the first point). Σ_ab = 0 (MF has no connected
    correlations), λ_ab = NaN."""
    from . import meanfield as mf

    ss = mf.steady_states(model, Z)
    stable = [p for p in ss if p.stable]
    if not ss.converged or not stable:
        return _failed_record("meanfield", model, f"no stable fixed point: {ss.message}", None)
    ref = np.array([0.0, 0.0, -1.0]) if previous is None else np.asarray(previous["mu"])
    p = min(stable, key=lambda q: float(np.linalg.norm(q.mu - ref)))
    return {"solver": "meanfield", "model": model, "mu": np.asarray(p.mu, float),
            "converged": True, "message": ss.message, "stable": True, "kappa": p.kappa,
            "kappa_imag": float(abs(p.eigenvalues[0].imag)), "sigma": np.zeros((3, 3)),
            "lambda": np.full((3, 3), np.nan), "eta_far": 0.0}


def _warm(previous):
    """A warm start for mfqf.steady_state from the previous point: the whole state when it
    was computed in this run, else (a point read from the cache) a SteadySummary of the
    kept record, or a record with ``.mu`` and ``.model`` where ddlib.results is absent."""
    if previous is None or not isinstance(previous, Mapping):
        return previous
    try:
        from .results import SteadySummary
    except ImportError:
        return types.SimpleNamespace(mu=np.asarray(previous["mu"]), model=previous["model"])
    fields = {"model": previous["model"], "mu": tuple(float(m) for m in previous["mu"]),
              "converged": bool(previous["converged"]), "message": previous["message"],
              "stable": previous["stable"], "kappa": float(previous["kappa"]),
              "solver": "mfqf"}
    try:
        return SteadySummary(**fields)
    except TypeError:  # a contract with more fields: go through its plain-JSON form
        return SteadySummary.from_dict({**fields, "model": previous["model"].key()})


def _observables(rec) -> dict:
    """The Dataset variables of one kept record: NaN (and converged False) unless
    converged."""
    ok = bool(rec["converged"])
    mu = np.asarray(rec["mu"], float) if ok else np.full(3, np.nan)
    out = {"mu_x": mu[0], "mu_y": mu[1], "mu_z": mu[2],
           "kappa": float(rec["kappa"]) if ok else np.nan,
           "kappa_imag": float(rec["kappa_imag"]) if ok else np.nan,
           "converged": ok, "stable": bool(ok and rec["stable"] is True),
           "eta_far": float(rec["eta_far"]) if ok else np.nan,
           "message": str(rec["message"])}
    for name, key in (("sigma", "sigma"), ("lambda", "lambda")):
        values = np.asarray(rec[key], float).reshape(9) if ok else np.full(9, np.nan)
        out.update({f"{name}_{ab}": float(v) for ab, v in zip(PAIRS, values, strict=True)})
    if "eta_axis" in rec:
        out["eta_axis"] = np.asarray(rec["eta_axis"], float) if ok \
            else np.full(np.shape(rec["eta_axis"]), np.nan)
    return out


def _check_setup(model, lattice, param, solver, options):
    from . import mfqf
    from .lattice import Lattice
    from .model import check_model

    check_model(model)
    if param not in _PARAMS:
        raise ValueError(f"param must be one of {_PARAMS}, got {param!r}")
    if solver is None:
        solver = "mfqf" if isinstance(lattice, Lattice) else "meanfield"
    if solver not in _SOLVERS:
        raise ValueError(f"solver must be one of {_SOLVERS}, got {solver!r}")
    if solver == "meanfield":
        if options is not None:
            raise ValueError("options must be None for solver='meanfield'")
        if isinstance(lattice, Lattice):
            Z = lattice.Z
        elif isinstance(lattice, Real) and not isinstance(lattice, bool) and lattice > 0:
            Z = float(lattice)
        else:
            raise ValueError(f"lattice must be a Lattice or a coordination number Z > 0, "
                             f"got {lattice!r}")
        return solver, Z, None
    if not (isinstance(lattice, Lattice) and lattice.kind in ("hypercubic", "chain")
            and all(lattice.periodic)):
        raise ValueError(f"lattice must be a periodic hypercubic lattice or chain for "
                         f"solver='mfqf', got {lattice!r}")
    if options is None:
        options = mfqf.SteadyOptions()
    if not isinstance(options, mfqf.SteadyOptions):
        raise TypeError(f"options must be an mfqf.SteadyOptions, got {type(options).__name__}")
    return solver, lattice, options


def _solve_point(solver, model, param, where, options, stable_only):
    """The ``solve(value, previous)`` of one hysteresis walk; never raises for a point."""
    from . import mfqf

    def solve(value, previous):
        m = model.replace(**{param: value})
        try:
            if solver == "meanfield":
                return _mf_point(m, where, previous)
            opts = dataclasses.replace(options, require_stable=stable_only)
            return mfqf.steady_state(m, where, _warm(previous), options=opts)
        except (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError) as err:
            return _failed_record(solver, m, f"{type(err).__name__}: {err}",
                                  None if solver == "meanfield" else where.shape[0])

    return solve


def _mu_jump(threshold: float, far_tol: float | None):
    def jumped(a, b) -> bool:
        if float(np.abs(np.asarray(a["mu"]) - np.asarray(b["mu"])).max()) > threshold:
            return True
        return far_tol is not None and (a["eta_far"] > far_tol) != (b["eta_far"] > far_tol)
    return jumped


_RECORD_VERSION = "sweep.hysteresis/1"
"""Part of every hysteresis point's cache key: bump it when what a point computes or keeps
changes here (``_mfqf_record``, ``_failed_record``, ``_warm``, ``_solve_point``), since an
MFQF point is keyed by the code of ``ddlib.mfqf`` only, not by this module (whose plotting
and reporting helpers change more often than hours of MFQF points should be recomputed)."""

_CODE = {"mfqf": "ddlib.mfqf", "meanfield": ("ddlib.meanfield", "ddlib.sweep")}
"""The code that keys each solver's points (MF points are chosen here: ``_mf_point``)."""


def _walk(solver, model, where, param, values, options, stable_only, jump, far_tol, tol,
          jumped, name, walk, progress) -> _Scan:
    """The grid walk of one direction of :func:`hysteresis` (a task of its own in the
    parallel path), its jumps still to be bisected."""
    store = _mfqf_record if solver == "mfqf" else None
    fixed = {k: v for k, v in model.key().items() if k != param}
    key = {"model": fixed, "where": where, "options": options,
           "stable_only": stable_only, "record": _RECORD_VERSION, **_store_key(store)}
    step = _stepper(_solve_point(solver, model, param, where, options, stable_only), name, key,
                    store, _CODE[solver], param)
    return _scan(step, param, values, (walk,), _observables, {"eta_axis": ["a", "b", "R"]},
                 (jumped or _mu_jump(jump, far_tol))
                 if (tol is not None or jumped is not None) else None,
                 progress, f"{name} {walk}")


def _assemble(walks: Sequence[xr.Dataset], param: str, tol, jump, far_tol) -> xr.Dataset:
    ds = xr.concat(walks, dim="direction")
    ds = ds.transpose(param, "direction", ...)
    ds = ds.assign_coords(a=["x", "y", "z"], b=["x", "y", "z"]) if "eta_axis" in ds else ds
    if "eta_axis" in ds:
        ds = ds.assign_coords(R=np.arange(ds.sizes["R"]))
    numeric = [v for v in ds.data_vars if v not in ("message", "eta_axis")]
    ends = {v: [] for v in numeric}
    last, off, final, count = [], [], [], []
    for w in walks:
        (walk,) = w.direction.values
        brackets = w.attrs.get("jumps", {}).get(walk, [])
        final.append(float(brackets[-1][0]) if brackets else np.nan)
        count.append(len(brackets))
        grid_jump = None
        if not brackets and tol is None:
            grid_jump = _grid_jump(w, walk, param, jump, far_tol)
        if brackets:
            last.append(float(brackets[0][0]))
            off.append(float(brackets[0][1]))
            for v in numeric:
                ends[v].append(w.attrs["branch_ends"][walk][0][v])
        elif grid_jump is not None:
            last.append(grid_jump[0])
            off.append(grid_jump[1])
            for v in numeric:
                ends[v].append(w[v].sel({"direction": walk, param: grid_jump[0]}).item())
        else:
            last.append(np.nan)
            off.append(np.nan)
            for v in numeric:
                ends[v].append(False if ds[v].dtype == bool else np.nan)
    ds["branch_end"] = ("direction", np.array(last))
    ds["jump_to"] = ("direction", np.array(off))
    if tol is not None:
        ds["last_end"] = ("direction", np.array(final))
        ds["n_jumps"] = ("direction", np.array(count))
    for v in numeric:
        ds[f"end_{v}"] = ("direction", np.array(ends[v], dtype=ds[v].dtype))
    ds.attrs = {}
    return ds


def _grid_jump(w: xr.Dataset, walk: str, param: str, jump: float, far_tol):
    """(last value on the branch, first past it) of a walk's first jump on the grid."""
    order = slice(None) if walk == "up" else slice(None, None, -1)
    x = w[param].values[order]
    mu = np.stack([w[f"mu_{c}"].sel(direction=walk).values for c in "xyz"], -1)[order]
    far = w["eta_far"].sel(direction=walk).values[order]
    test = _mu_jump(jump, far_tol)
    prev = None
    for k in range(len(x)):
        if not np.all(np.isfinite(mu[k])):
            continue
        if prev is not None and test({"mu": mu[prev], "eta_far": far[prev]},
                                     {"mu": mu[k], "eta_far": far[k]}):
            return float(x[prev]), float(x[k])
        prev = k
    return None


def hysteresis(model, lattice, param: str, values, *, solver: str | None = None,
               options=None, stable_only: bool = True, jump: float = 0.15,
               far_tol: float | None = None, tol: float | None = None,
               jumped: Callable[[dict, dict], bool] | None = None, direction: str = "both",
               name: str | None = None, parallel: bool = False, workers: int = 2,
               client=None, progress: bool = True) -> xr.Dataset:
    r"""Sweep one parameter up and down, each sweep following its stable branch.

    The up sweep walks ``values`` in increasing order from the state reached at the
    smallest value (from all spins down), the down sweep in decreasing order from the
    largest; every point is warm-started from the previous converged point of its sweep.
    Inside a bistable window the two sweeps stay on different branches: a hysteresis loop.

    * MFQF (``lattice`` a periodic hypercubic lattice or chain): each point is
      ``mfqf.steady_state(model', lattice, previous, options=...)`` with
      ``require_stable=stable_only``: the branch of fixed points is followed from the previous
      point, an unstable root is rejected and the state relaxed in time instead, as a slow
      physical sweep does.
    * MF (``lattice`` a number Z, or ``solver="meanfield"``): the stable fixed point of the
      cubic (Eq. 4–6 with η = 0) nearest to the previous point's μ, i.e. the same branch
      until it ends at a saddle-node.

    Each point is cached as it finishes (:mod:`ddlib.cache`: μ, κ, Σ, λ, η along one axis,
    the model; never the η field), under its path from the start of the sweep (a warm start
    depends on its history), so an interrupted sweep resumes where it stopped. A point that
    does not converge (or raises inside the solver) is recorded as missing: NaN,
    ``converged`` False and the reason in ``message``; the sweep goes on from the last
    converged point.

    Parameters
    ----------
    model : Model
        The other parameters; its value of ``param`` is replaced by each of ``values``.
    lattice : Lattice or float
        MFQF: periodic ``hypercubic(L, D)`` or ``chain(N)``; MF: a lattice (its Z) or Z.
    param : {"Delta", "Omega", "J", "Gamma"}
        The swept parameter (for J𝒵 sweep ``"J"`` with ``J = J𝒵/Z``).
    values : 1D array
        Its values (any order; swept sorted).
    solver : {"mfqf", "meanfield"}, optional
        Default: MFQF for a lattice, MF for a number.
    options : mfqf.SteadyOptions, optional
        MFQF options (``require_stable`` is set to ``stable_only``).
    stable_only : bool, default True
        Accept stable steady states only (MFQF). False follows whatever fixed point the
        warm-started root search reaches, stable or not (tracing a branch past its loss of
        stability).
    jump : float, default 0.15
        A sweep has left its branch when a component of μ changes by more than this between
        consecutive converged points.
    far_tol : float, optional
        Also count as leaving the branch the point where ``eta_far`` (max_ab |η_ab| at the
        farthest displacement) crosses ``far_tol``: where the connected correlations start
        (or stop) reaching across the finite lattice.
    tol : float, optional
        Locate the end of each sweep's branch (its first jump) by bisection to ``tol``, each
        trial warm-started from the last point still on the branch. None: the end is the
        last grid point before the jump.
    jumped : callable, optional
        ``jumped(a, b) -> bool`` on two kept records (dicts with ``mu``, ``kappa``,
        ``sigma``, ``lambda``, ``eta_far``, …) replacing the ``jump`` and ``far_tol`` tests.
    direction : {"both", "up", "down"}
        Which sweeps to make (the ``direction`` dimension then has one value).
    name : str, optional
        Cache name (default ``"sweep.hysteresis.<solver>"``).
    parallel, workers, client
        Run the two sweeps as two tasks on dask (see :func:`run_parallel`); the result is the
        same as the serial one. :func:`hysteresis_many` runs several sweeps at once.
    progress : bool

    Returns
    -------
    xarray.Dataset
        Dimensions ``(param, "direction")``, ``direction`` = ["up", "down"] (for
        ``direction="both"``). Variables:
        ``mu_x``, ``mu_y``, ``mu_z``; ``kappa`` (relaxation rate κ [Γ]) and ``kappa_imag``;
        ``converged``, ``stable``, ``message``; ``sigma_ab`` = Σ_ab = Σ_{R≠0} η_ab(R) and
        ``lambda_ab`` = λ_ab (inverse correlation length [1/site]) for ab in xx, xy, …, zz
        (MF: Σ = 0, λ = NaN); ``eta_far`` = max_ab |η_ab| at the farthest displacement
        (L/2, …, L/2) (MF: 0); MFQF only: ``eta_axis`` (dims ``a``, ``b``, ``R``):
        η_ab(R ê_1) for R = 0 … L/2. Per direction: ``branch_end`` (last value on the branch
        the sweep started on, before its first jump; NaN if it never jumps), ``jump_to``
        (the first value past it) and ``end_<var>`` (each variable at ``branch_end``).
        With ``tol`` also ``n_jumps`` (the jumps the sweep made, each bisected) and
        ``last_end`` (the last value on the branch before its *last* jump: where a sweep
        that crossed an intermediate branch leaves it for the branch it ends on).
        ``attrs["coupling"]``: the model's coupling (``"xy"`` or ``"ising"``).

    Raises
    ------
    ValueError
        For a bad ``model``, ``lattice`` (not periodic hypercubic for MFQF), ``param``,
        ``values``, ``solver``, ``jump`` or ``tol``; TypeError for wrong ``options``.
    """
    sweep = _hysteresis_tasks(
        model, lattice, param, values, solver=solver, options=options,
        stable_only=stable_only, jump=jump, far_tol=far_tol, tol=tol, jumped=jumped,
        direction=direction, name=name, progress=progress and not parallel and client is None)
    (ds,) = _run_sweeps([sweep], parallel=parallel, workers=workers, client=client,
                        progress=progress, desc=name or "sweep.hysteresis")
    return ds


def _hysteresis_tasks(model, lattice, param, values, *, solver=None, options=None,
                      stable_only=True, jump=0.15, far_tol=None, tol=None, jumped=None,
                      direction="both", name=None, progress=False):
    """The checked arguments of :func:`hysteresis` as its tasks (one per direction) and the
    function assembling their results; also a cost estimate (sites x points) per task."""
    solver, where, options = _check_setup(model, lattice, param, solver, options)
    grid_values = np.sort(_values("values", values))
    if not (isinstance(jump, Real) and jump > 0):
        raise ValueError(f"jump must be a positive number, got {jump!r}")
    if tol is not None and not (isinstance(tol, Real) and tol > 0):
        raise ValueError(f"tol must be a positive number or None, got {tol!r}")
    if far_tol is not None and not (isinstance(far_tol, Real) and far_tol > 0):
        raise ValueError(f"far_tol must be a positive number or None, got {far_tol!r}")
    if jumped is not None:
        _check_callable("jumped", jumped)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if options is not None:  # stable_only needs kappa: refused here, not at every point
        dataclasses.replace(options, require_stable=bool(stable_only))
    name = name or f"sweep.hysteresis.{solver}"
    tasks = [functools.partial(_walk, solver, model, where, param, grid_values, options,
                               stable_only, jump, far_tol, tol, jumped, name, walk, progress)
             for walk in (("up", "down") if direction == "both" else (direction,))]

    def finish(walks):
        ds = _assemble(walks, param, tol, jump, far_tol)
        ds.attrs["coupling"] = model.coupling
        return ds

    return _Sweep(tasks, finish, _cost(solver, where) * grid_values.size,
                  tol if tol is not None else 1.0)


class _Sweep(NamedTuple):
    """A checked :func:`hysteresis` call: its walk tasks (one per direction, each returning
    a :class:`_Scan`), the function assembling the finished walks, a cost estimate (sites x
    points) and the width to which its jumps are bisected."""

    tasks: list
    finish: Callable
    cost: int
    jump_tol: float


def _run_sweeps(sweeps: Sequence[_Sweep], *, parallel: bool, workers: int, client,
                progress: bool, desc: str) -> list[xr.Dataset]:
    """Run hysteresis sweeps as independent tasks, on one cluster: every walk (the grid
    points of one direction, longest sweep first), and every jump a walk crossed, bisected
    as a task of its own (a walk goes on from the point past a jump, so the bisections need
    only the walk's points on either side: the results are those of bisecting inside the
    walk), longest first by :meth:`_Bisection.cost`. On a cluster a walk's bisections are
    submitted as soon as that walk has finished (walks still queued start first), so that a
    worker done with its walks does not wait for the other's; serially, the walks first.
    Returns one Dataset per sweep."""
    own = None
    if parallel and client is None:
        from dask.distributed import Client

        own = local_cluster(workers)  # checks workers
        client = Client(own)
    shown = progress and (parallel or client is not None)
    jobs = sorted(((sw.cost, i, k, task) for i, sw in enumerate(sweeps)
                   for k, task in enumerate(sw.tasks)), key=lambda job: -job[0])
    scans = [[None] * len(sw.tasks) for sw in sweeps]
    hits = [[None] * len(sw.tasks) for sw in sweeps]

    def cuts(i, k):  # the bisections of walk k of sweep i, longest first
        # (the sweep's size breaks ties, e.g. when the walk came from the cache)
        sw = sweeps[i]
        return sorted((((job.cost(sw.jump_tol), sw.cost), n,
                        functools.partial(_bisect, *job.args, sw.jump_tol))
                       for n, job in enumerate(scans[i][k].pending)),
                      key=lambda cut: (-cut[0][0], -cut[0][1], cut[1]))

    try:
        if client is None:
            for (_, i, k, _), scan in zip(jobs, run_parallel(
                    [job[3] for job in jobs], parallel=False, progress=False), strict=True):
                scans[i][k], hits[i][k] = scan, [None] * len(scan.pending)
            every = sorted(((c, i, k, n, task) for i, row in enumerate(scans)
                            for k in range(len(row)) for c, n, task in cuts(i, k)),
                           key=lambda cut: (-cut[0][0], -cut[0][1], cut[1], cut[2], cut[3]))
            for (_, i, k, n, _), hit in zip(every, run_parallel(
                    [cut[4] for cut in every], parallel=False, progress=progress,
                    desc=f"{desc}: branch ends"), strict=True):
                hits[i][k][n] = hit
        else:
            _pipeline(client, jobs, scans, hits, cuts, shown, desc)
    finally:
        if own is not None:
            client.close()
            own.close()
    return [sw.finish([scan.finish(h) for scan, h in zip(row, hrow, strict=True)])
            for sw, row, hrow in zip(sweeps, scans, hits, strict=True)]


def _pipeline(client, jobs, scans, hits, cuts, progress: bool, desc: str) -> None:
    """The walks ``jobs`` on ``client``, each walk's bisections (``cuts(i, k)``) submitted
    when it returns; fills ``scans`` and ``hits`` in place. Priorities: every walk above
    every bisection, longer first within each."""
    from dask.distributed import as_completed  # lazy: import ddlib fast

    env = _worker_env()
    top = 2 ** 40  # above any bisection's priority (its estimated milliseconds)
    where, walks = {}, []
    for r, (_, i, k, task) in enumerate(jobs):
        walks.append(_submit(client, task, env, top + len(jobs) - r))
        where[walks[-1].key] = ("walk", i, k, None)
    pending = as_completed(walks)
    with tqdm(total=len(jobs), desc=desc, disable=not progress) as bar:
        for future in pending:
            kind, i, k, n = where.pop(future.key)
            if kind == "walk":
                scans[i][k] = future.result()
                hits[i][k] = [None] * len(scans[i][k].pending)
                for (seconds, _), n, task in cuts(i, k):
                    cut = _submit(client, task, env, min(int(seconds * 1000), top - 1))
                    where[cut.key] = ("cut", i, k, n)
                    pending.add(cut)
                    bar.total += 1
            else:
                hits[i][k][n] = future.result()
            bar.update()


def _cost(solver, where) -> int:
    """Relative cost of one sweep point: the lattice's sites for MFQF (an FFT of the
    correlator field per step), 1 for MF."""
    return int(where.N) if solver == "mfqf" else 1


def hysteresis_set(sweeps: Sequence[Mapping[str, Any]], *, parallel: bool = True,
                   workers: int = 2, client=None, progress: bool = True) -> list[xr.Dataset]:
    """Several :func:`hysteresis` calls (e.g. on several lattices) as one set of tasks,
    the longest first, so that the workers stay busy together.

    Each direction of each sweep is one task; tasks are started in decreasing order of
    (sites x points), which on 2 workers puts the two sweeps of the largest lattice on
    different workers and fills in with the smaller ones. Each jump a sweep crossed is
    bisected (``tol``) as a task of its own, submitted as soon as its walk has returned
    (after any walk still queued; the longest first, estimated from the walk's time next to
    the jump), so that a direction with several branch ends does not hold up the others and
    a worker done with its walks does not wait for the other's. The results are the same as
    ``[hysteresis(**kw) for kw in sweeps]``.

    Parameters
    ----------
    sweeps : sequence of mappings
        The arguments of each :func:`hysteresis` call (``model``, ``lattice``, ``param``,
        ``values`` and any keywords except ``parallel``, ``workers``, ``client`` and
        ``progress``).
    parallel, workers, client, progress
        As for :func:`run_parallel` (default: 2 local worker processes).

    Returns
    -------
    list of xarray.Dataset
        One :func:`hysteresis` Dataset per entry of ``sweeps``, in their order.
    """
    if isinstance(sweeps, Mapping) or not isinstance(sweeps, Sequence) or not sweeps:
        raise ValueError("sweeps must be a non-empty sequence of mappings of hysteresis "
                         "arguments")
    built = []
    for i, kw in enumerate(sweeps):
        if not isinstance(kw, Mapping):
            raise ValueError(f"sweeps[{i}] must be a mapping, got {type(kw).__name__}")
        bad = {"parallel", "workers", "client", "progress"} & set(kw)
        if bad:
            raise ValueError(f"sweeps[{i}] must not set {sorted(bad)} (give them to "
                             f"hysteresis_set)")
        built.append(_hysteresis_tasks(**kw))
    return _run_sweeps(built, parallel=parallel, workers=workers, client=client,
                       progress=progress, desc="sweep.hysteresis_set")


def describe(ds: xr.Dataset, label: str = "", indent: str = "", *,
             component: str | None = None) -> str:
    """One line per sweep of a :func:`hysteresis` Dataset: where its branch ends and κ, Im λ
    and the total correlation Σ_ab of the state right there (or that it never leaves its
    branch); each line starts with ``indent``, then ``label``.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`hysteresis` result.
    label, indent : str
    component : str, optional
        The Σ_ab printed, one of :data:`PAIRS`. Default: the one along the bond coupling,
        Σ_zz for an Ising sweep (``ds.attrs["coupling"] == "ising"``), else Σ_xx.
    """
    if component is None:
        component = "zz" if ds.attrs.get("coupling") == "ising" else "xx"
    if component not in PAIRS:
        raise ValueError(f"component must be one of {PAIRS}, got {component!r}")
    sigma = f"end_sigma_{component}"
    _check_dataset(ds, ("mu_x", "branch_end", "end_kappa", "end_kappa_imag", sigma))
    param = next(d for d in ds.mu_x.dims if d != "direction")
    lines = []
    for walk in ds.direction.values:
        end = ds.sel(direction=walk)
        head = indent + (f"{label}, sweep {walk}" if label else f"sweep {walk}")
        if not np.isfinite(float(end.branch_end)):
            lines.append(f"{head}: stays on its branch over the whole range")
            continue
        lines.append(f"{head}: stable branch ends at {param} = {float(end.branch_end):.4f} "
                     f"(κ = {float(end.end_kappa):.4g}, Im λ = {float(end.end_kappa_imag):.2g}, "
                     f"Σ_{component} = {float(end[sigma]):.3g})")
    return "\n".join(lines)


def hysteresis_many(model, lattice, param: str, values, vary: Mapping[str, Sequence[float]],
                    *, parallel: bool = True, workers: int = 2, client=None,
                    progress: bool = True, **kwargs) -> xr.Dataset:
    """Several independent :func:`hysteresis` sweeps, e.g. at several J𝒵, as one Dataset.

    Parameters
    ----------
    model, lattice, param, values
        As for :func:`hysteresis`.
    vary : mapping of one model parameter to its values
        E.g. ``{"J": JZ / lattice.Z}``; one sweep (up and down) per value.
    parallel, workers, client
        Each direction of each sweep is one dask task (default: 2 local worker processes);
        ``parallel=False`` runs them here.
    **kwargs
        Passed to :func:`hysteresis` (``solver``, ``options``, ``jump``, ``tol``, ``name``…).

    Returns
    -------
    xarray.Dataset
        As :func:`hysteresis`, with the varied parameter as a leading dimension.
    """
    if not isinstance(vary, Mapping) or len(vary) != 1:
        raise ValueError(f"vary must map one model parameter to its values, got {vary!r}")
    ((other, others),) = vary.items()
    if other not in _PARAMS or other == param:
        raise ValueError(f"vary must name a model parameter other than {param!r}, "
                         f"got {other!r}")
    others = _values(f"vary[{other!r}]", others)
    unknown = set(kwargs) - {"solver", "options", "stable_only", "jump", "far_tol", "tol",
                             "jumped", "name"}
    if unknown:
        raise ValueError(f"unknown keyword arguments {sorted(unknown)}")
    sets = hysteresis_set([dict(model=model.replace(**{other: float(v)}), lattice=lattice,
                                param=param, values=values, **kwargs) for v in others],
                          parallel=parallel, workers=workers, client=client, progress=progress)
    out = xr.concat(sets, dim=xr.DataArray(others, dims=other, name=other))
    out.attrs["coupling"] = model.coupling
    return out


def bistable_window(model, lattice, param: str, lo: float, hi: float, tol: float = 1e-3, *,
                    n: int = 21, **kwargs) -> tuple[float, float] | None:
    """The interval inside [lo, hi] where two stable steady states coexist.

    A :func:`hysteresis` sweep over ``n`` values from ``lo`` to ``hi``, up and down, with
    each sweep's first jump bisected to ``tol``: the up sweep's branch ends at the window's
    right edge, the down sweep's at its left edge. A window narrower than the grid is still
    found (both sweeps jump inside the same grid interval, and the bisections separate the
    edges); a steep but continuous change is not a jump (its bisected bracket closes).

    Parameters
    ----------
    model, lattice, param
        As for :func:`hysteresis` (MFQF on a periodic hypercubic lattice, or MF).
    lo, hi : float
        The search interval.
    tol : float, default 1e-3
        Each edge is the last point on its branch of a bracket narrower than ``tol``: within
        ``tol`` of the true branch end (inside the window).
    n : int, default 21
        Grid of the sweeps.
    **kwargs
        Passed to :func:`hysteresis` (``solver``, ``options``, ``jump``, ``parallel``…).

    Returns
    -------
    (left, right) or None
        None when the sweeps do not both leave their branch inside [lo, hi], or their ends do
        not overlap (no coexistence).
    """
    if not (isinstance(lo, Real) and isinstance(hi, Real) and lo < hi):
        raise ValueError(f"lo and hi must be numbers with lo < hi, got {lo!r}, {hi!r}")
    if not (isinstance(tol, Real) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    ds = hysteresis(model, lattice, param, np.linspace(lo, hi, n), tol=tol, **kwargs)
    right = float(ds.branch_end.sel(direction="up"))
    left = float(ds.branch_end.sel(direction="down"))
    if not (np.isfinite(left) and np.isfinite(right)) or left >= right:
        return None
    return left, right
