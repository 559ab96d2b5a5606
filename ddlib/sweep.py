"""Parameter scans: grids and continuation with warm starts, cached point by point.

Any solver fits: the scan calls a function you give it and keeps, from each result, the
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

import itertools
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import xarray as xr
from tqdm import tqdm

from .cache import cached

__all__ = ["grid", "continuation", "with_fallback", "branch", "DIRECTIONS"]

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
         store: Callable[[Any], Any] | None = None,
         progress: bool = True) -> xr.Dataset:
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
    progress : bool
        Show a tqdm bar.

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
    points = list(itertools.product(*coords.values()))
    records = []
    for values in tqdm(points, desc=name, disable=not progress):
        point = dict(zip(names, (float(v) for v in values), strict=True))
        result = cached(name, lambda p=point: _kept(store, solve(**p)), **key, point=point)
        records.append(_observe(observables, result))
    shape = tuple(len(v) for v in coords.values())
    return _collect(records, shape, names, coords, dims)


def continuation(solve: Callable[[float, Any], Any], param: str, values: Sequence[float], *,
                 observables: Callable[[Any], Mapping[str, Any]], name: str,
                 key: Mapping[str, Any] | None = None, direction: str = "both",
                 dims: Mapping[str, Sequence[str]] | None = None,
                 jumped: Callable[[Any, Any], bool] | None = None, jump_tol: float = 1e-3,
                 store: Callable[[Any], Any] | None = None,
                 progress: bool = True) -> xr.Dataset:
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
    records: list[dict] = []
    jumps: dict[str, list] = {}
    ends: dict[str, list] = {}
    bar = tqdm(total=len(walks) * grid_values.size, desc=name, disable=not progress)

    def step(value: float, previous: _Point | None, path: list[float]) -> _Point:
        fresh = []

        def compute():
            fresh.append(solve(value, None if previous is None else previous.warm))
            return _kept(store, fresh[0])

        kept = cached(name, compute, **key, param=param, path=path)
        return _Point(kept, fresh[0] if fresh else kept)

    for walk in walks:
        order = [float(v) for v in (grid_values if walk == "up" else grid_values[::-1])]
        previous, previous_path, by_value, jumps[walk], ends[walk] = None, [], {}, [], []
        for k, v in enumerate(order):
            path = order[:k + 1]
            point = step(v, previous, path)
            result = point.kept
            if _converged(result):
                if jumped is not None and previous is not None \
                        and jumped(previous.kept, result):
                    found = _bisect(step, jumped, previous, previous_path, v, result, jump_tol)
                    if found is not None:
                        jumps[walk].append(found[:2])
                        ends[walk].append(_observe(observables, found[2].kept))
                previous, previous_path = point, path
            by_value[v] = _observe(observables, result)
            bar.update()
        records.extend(by_value[float(v)] for v in grid_values)
    bar.close()
    ds = _collect(records, (len(walks), grid_values.size), ("direction", param),
                  {"direction": list(walks), param: grid_values}, dims)
    if jumped is not None:
        ds.attrs["jumps"], ds.attrs["branch_ends"] = jumps, ends
    return ds


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
    """One sweep of a :func:`continuation` cut at the end of the branch it followed.

    Points past the sweep's first jump are dropped and the branch end found by bisection
    (``ds.attrs["branch_ends"]``) is appended, so a plot shows each branch up to where it
    ends and no line across the jump.

    Parameters
    ----------
    ds : xarray.Dataset
        A continuation result (computed with ``jumped``).
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
    if "jumps" not in ds.attrs:
        raise ValueError("ds must come from continuation(..., jumped=...)")
    if direction not in ds.attrs["jumps"]:
        raise ValueError(f"direction must be one of {list(ds.attrs['jumps'])}, "
                         f"got {direction!r}")
    if var not in ds:
        raise ValueError(f"var must be a variable of ds, got {var!r}")
    param = ds[var].dims[1]
    x, y = ds[param].values, ds[var].sel(direction=direction).values
    if not ds.attrs["jumps"][direction]:
        return x, y
    (last, _), end = ds.attrs["jumps"][direction][0], ds.attrs["branch_ends"][direction][0]
    keep = (x < last) if direction == "up" else (x > last)
    y = np.where(keep.reshape((-1,) + (1,) * (y.ndim - 1)), y, np.nan)
    x, y = np.append(x, last), np.concatenate([y, np.asarray(end[var], dtype=float)[None]])
    order = np.argsort(x, kind="stable")
    return x[order], y[order]
