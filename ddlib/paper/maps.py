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

    if "Delta_grid" in one:
        grid = one.Delta_grid.values
        valid = np.flatnonzero(np.isfinite(grid))
        one = one.isel(s=valid).assign_coords(s=grid[valid]).rename(s="Delta")
    return branch(one, var, direction)


def draw_branch(ax, x, y, far, color, label=None, ms=3.0, **kwargs):
    """A branch as a line with filled markers where its correlations decay and open ones on
    its long-range part (``far`` > :data:`LONG_RANGE`); NaN points are skipped."""
    x, y, far = (np.asarray(v, float) for v in (x, y, far))
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
    x, far = np.asarray(x, float), np.asarray(far, float)
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
    x, y, mu_x = (np.asarray(v, float) for v in (x, y, mu_x))
    ok = np.isfinite(y) & np.isfinite(mu_x)
    x, y, mu_x = x[ok], y[ok], mu_x[ok]
    cut = np.flatnonzero(np.abs(np.diff(mu_x)) > jump) + 1
    return (np.insert(x, cut, np.nan), np.insert(y, cut, np.nan))


def shade(i: int, n: int):
    """The i-th of n colours of a sequence (growing L, growing D): viridis, dark to light."""
    from matplotlib import colormaps

    return colormaps["viridis"](0.85 * i / max(n - 1, 1))
