r"""Plots and read-outs of the archived MFQF windows (``window_vs_L``, ``bistable_map``,
``window_vs_D``) for the chapter ``multistability``.

The long-range part of a branch is drawn, not cut: a state whose connected correlations at
the largest displacement of the lattice, :math:`\max_{ab}|\eta_{ab}(L/2, \dots)|`, exceed
``LONG_RANGE`` is drawn with open symbols on the same line. The marker threshold only
distinguishes the two parts in a figure; no branch end and no window edge depends on it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["LONG_RANGE", "edges", "draw_branch", "long_range_onset", "unjumped", "shade",
           "sweep_of"]

LONG_RANGE = 0.01
"""|η| at the farthest displacement above which a drawn state is marked long-range."""


def _same_length(**arrays) -> tuple[np.ndarray, ...]:
    out = tuple(np.asarray(v, float).ravel() for v in arrays.values())
    names = list(arrays)
    for name, v in zip(names[1:], out[1:], strict=True):
        if len(v) != len(out[0]):
            raise ValueError(f"{name} must have the length of {names[0]} ({len(out[0])}), "
                             f"got {len(v)}")
    return out


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def edges(ds: xr.Dataset, dim: str) -> dict:
    """The window of stable-state coexistence of each sweep pair of an archived window entry.

    Parameters
    ----------
    ds : xarray.Dataset
        ``window_vs_L`` (``dim="case"``) or ``bistable_map``/``window_vs_D`` (``dim="run"``).
    dim : str

    Returns
    -------
    dict
        ``left`` (the end of the branch from large Δ), ``right`` (the end of the branch from
        small Δ), ``last`` (where the up sweep leaves its last branch before the high-Δ one:
        ≥ ``right`` when it crossed an intermediate branch), ``decaying`` (the end of the
        low-Δ branch's part with decaying correlations: :func:`long_range_onset` where the
        branch carries a long-range part before its end, else ``right``), arrays over
        ``dim``; NaN where a sweep never left its branch; ``bistable`` where
        ``left < right``.
    """
    if not isinstance(ds, xr.Dataset) or "branch_end" not in ds:
        raise TypeError("ds must be an archived window entry (a Dataset with branch_end)")
    if dim not in ds.dims:
        raise ValueError(f"dim must be one of ds's dimensions {sorted(ds.dims)}, got {dim!r}")
    left = ds.branch_end.sel(direction="down").values.astype(float)
    right = ds.branch_end.sel(direction="up").values.astype(float)
    last = (ds.last_end.sel(direction="up").values.astype(float) if "last_end" in ds
            else right)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(left) & np.isfinite(right) & (left < right)
    decaying = right.copy()
    for k in range(ds.sizes[dim] if "eta_far" in ds else 0):
        x, far = sweep_of(ds.isel({dim: k}), "eta_far", "up")
        onset = long_range_onset(x, far)
        if np.isfinite(onset) and onset < right[k]:
            decaying[k] = onset
    return {"left": left, "right": right, "last": last, "decaying": decaying, "bistable": ok,
            dim: ds[dim].values if dim in ds.coords else np.arange(ds.sizes[dim])}


def sweep_of(one: xr.Dataset, var: str, direction: str):
    """``sweep.branch`` of one sweep pair of an archived window entry (its own Δ grid when
    the entry stores one per run as ``Delta_grid``): Δ and ``var`` up to the branch end."""
    from ddlib.sweep import branch

    if not isinstance(one, xr.Dataset):
        raise TypeError(f"one must be one sweep pair (a Dataset), got {type(one).__name__}")
    if var not in one:
        raise ValueError(f"var must be a variable of the entry, got {var!r}")
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
    if "Delta_grid" in one:
        grid = one.Delta_grid.values
        valid = np.flatnonzero(np.isfinite(grid))
        one = one.isel(s=valid).assign_coords(s=grid[valid]).rename(s="Delta")
    return branch(one, var, direction)


def draw_branch(ax, x, y, far, color, label=None, ms=3.0, **kwargs):
    """A branch as a line with filled markers where its correlations decay and open ones on
    its long-range part (``far`` > :data:`LONG_RANGE`); NaN points are skipped."""
    if not hasattr(ax, "plot"):
        raise TypeError(f"ax must be a matplotlib axes, got {ax!r}")
    x, y, far = _same_length(x=x, y=y, far=far)
    ok = np.isfinite(y)
    ax.plot(x[ok], y[ok], "-", color=color, lw=1, label=label, **kwargs)
    lr = ok & (far > LONG_RANGE)
    ax.plot(x[ok & ~lr], y[ok & ~lr], "o", ms=ms, color=color, **kwargs)
    ax.plot(x[lr], y[lr], "o", ms=ms, mfc="white", color=color, **kwargs)


def long_range_onset(x, far, lo: float = 0.03) -> float:
    r"""Where the long-range plateau of a branch sets in: the zero of a straight line fitted to
    :math:`|\eta(L/2)|` against Δ over the points where it exceeds ``lo`` (the plateau grows
    linearly from its onset, like a condensate fraction); NaN with fewer than 3 such points.
    """
    x, far = _same_length(x=x, far=far)
    lo = _positive("lo", lo)
    pick = np.isfinite(far) & (far > lo)
    if pick.sum() < 3:
        return float("nan")
    k = np.flatnonzero(pick)
    k = k[: max(3, len(k) // 2)]  # the first half of the plateau: its linear rise
    slope, icpt = np.polyfit(x[k], far[k], 1)
    return float(-icpt / slope) if slope != 0 else float("nan")


def unjumped(x, y, mu_x, jump: float):
    """A whole sweep (``y`` against ``x``, in sweep order or sorted) for a line plot, with a
    NaN inserted wherever ``mu_x`` changes by more than ``jump`` between neighbours (no line
    across a jump) and NaN points dropped."""
    x, y, mu_x = _same_length(x=x, y=y, mu_x=mu_x)
    jump = _positive("jump", jump)
    ok = np.isfinite(y) & np.isfinite(mu_x)
    x, y, mu_x = x[ok], y[ok], mu_x[ok]
    cut = np.flatnonzero(np.abs(np.diff(mu_x)) > jump) + 1
    return (np.insert(x, cut, np.nan), np.insert(y, cut, np.nan))


def shade(i: int, n: int):
    """The i-th of n colours of a sequence (growing L, growing D): viridis, dark to light."""
    from matplotlib import colormaps

    for name, v in (("i", i), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    if not 0 <= i < n:
        raise ValueError(f"i must satisfy 0 <= i < n = {n}, got {i}")
    return colormaps["viridis"](0.85 * i / max(n - 1, 1))
