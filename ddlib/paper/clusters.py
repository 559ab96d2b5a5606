r"""Read-outs of the exact-cluster results (archive entries ``fig1_fc``, ``fig1c_2d``,
``fig4_fc``, ``fig4_2d``, ``fc_scaling``, or this build's computation of the same grids) for
the chapters ``bimodality`` and ``mfqf_derivation``.

Both chapters draw the same data, so they read it with the same functions: the grid of a
profile (:func:`axis`), the per-N scan exactly as the archive makes it (:func:`by_N`), the
most bimodal detuning :math:`\Delta^*` and the peaks of :math:`P(M_x = m)` there
(:func:`most_bimodal`), the width of the bimodal Δ range on a grid (:func:`bimodal_width`),
the largest :math:`b_x` and that width per N or per :math:`J\mathcal Z` (:func:`growth`),
and the word for how a sequence of them changes (:func:`trend`). Every read-out leaves out
the points that did not converge (their observables are NaN in :func:`ddlib.exact.scan`;
the mask makes it explicit for any entry).

The bimodality index is the paper's

.. math::

    b_x = \frac{2\,(P_{\max,2} - P_{\min})}{P_{\max,1} + P_{\max,2}},

zero for a unimodal distribution, so that the bimodal Δ range on a grid is where
:math:`b_x > 0`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import xarray as xr

__all__ = ["axis", "by_N", "most_bimodal", "bimodal_width", "growth", "trend"]

_KINDS = ("fc", "2d")


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def axis(spec) -> np.ndarray:
    """The grid of a profile or archive recipe entry ``(start, stop, n)``.

    Parameters
    ----------
    spec : sequence of 3 numbers
        ``start``, ``stop`` (included) and the number of points ``n`` ≥ 1 (an integer value).

    Returns
    -------
    ndarray, shape (n,)
        ``numpy.linspace(start, stop, n)``.

    Examples
    --------
    >>> print(axis((2.5, 5.0, 6)))
    [2.5 3.  3.5 4.  4.5 5. ]
    """
    if isinstance(spec, str | bytes) or not hasattr(spec, "__len__") or len(spec) != 3:
        raise ValueError(f"spec must be (start, stop, n), got {spec!r}")
    start, stop = _real("spec start", spec[0]), _real("spec stop", spec[1])
    n = spec[2]
    if isinstance(n, bool) or not isinstance(n, Real) or not float(n).is_integer() or n < 1:
        raise ValueError(f"spec: the number of points n must be a positive integer, got {n!r}")
    return np.linspace(start, stop, int(n))


def by_N(kind: str, Ns, Delta, JZ: float, *, Omega: float = 0.5,
         progress: bool = True) -> xr.Dataset:
    r"""Exact steady states over Δ at one :math:`J\mathcal Z` for several cluster sizes N, made
    by the archive's own function for its per-N entries (``fig4_fc``, ``fig4_2d``,
    ``fc_scaling``), so that this build's computation and an archived entry have the same
    form and the same numbers on the same grid. Every point is cached
    (:func:`ddlib.exact.scan`).

    Parameters
    ----------
    kind : {"fc", "2d"}
        Fully connected graphs (:math:`\mathcal Z = N - 1`) or periodic 2D clusters
        (:func:`ddlib.lattice.cluster2d`, :math:`\mathcal Z = 4`).
    Ns : sequence of int
        Cluster sizes, distinct, each ≥ 2.
    Delta : sequence of 3 numbers
        The detuning grid ``(start, stop, n)`` [Γ] (:func:`axis`).
    JZ : float
        :math:`J\mathcal Z` [Γ]; the bond coupling is :math:`J = J\mathcal Z/\mathcal Z`.
    Omega : float, default 0.5
        Rabi frequency Ω [Γ].
    progress : bool, default True
        Show a progress bar per N.

    Returns
    -------
    xarray.Dataset
        Over (N, Delta): ``bx``, ``mux``, ``muy``, ``muz``, ``peak1``, ``peak2`` (m of the two
        largest maxima of :math:`P(M_x = m)`, NaN when absent), ``converged``; ``px`` over
        (N, Delta, k) with ``m`` = −1 + 2k/N over (N, k), NaN-padded beyond k = N.
    """
    from ddlib.archive import _by_N

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if isinstance(Ns, str | bytes) or not hasattr(Ns, "__iter__"):
        raise TypeError(f"Ns must be a sequence of cluster sizes, got {Ns!r}")
    Ns = list(Ns)
    if (not Ns or not all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 2
                          for n in Ns) or len(set(Ns)) != len(Ns)):
        raise ValueError(f"Ns must be distinct integers >= 2, got {Ns!r}")
    try:
        grid = axis(Delta)
    except ValueError as err:
        raise ValueError(f"Delta: {err}") from None
    JZ, Omega = _real("JZ", JZ), _real("Omega", Omega)
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    opt = {"lattice": kind, "N": [int(n) for n in Ns], "Omega": Omega, "JZ": JZ,
           "Delta": [float(grid[0]), float(grid[-1]), len(grid)]}
    return _by_N(opt, bool(progress))


def _check_entry(ds, dim: str, needs: tuple[str, ...]) -> None:
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset of exact b_x, got {type(ds).__name__}")
    missing = [v for v in needs if v not in ds.variables]
    if missing:
        raise ValueError(f"ds must hold {', '.join(needs)}; missing {', '.join(missing)}")
    if not isinstance(dim, str) or dim == "Delta" or dim not in ds.dims:
        raise ValueError(f"dim must be a dimension of ds other than Delta "
                         f"{sorted(d for d in ds.dims if d != 'Delta')}, got {dim!r}")
    if "Delta" not in ds.dims or ds.sizes["Delta"] < 3:
        raise ValueError("ds must have a Delta dimension of at least 3 detunings")


def _converged_bx(ds: xr.Dataset) -> xr.DataArray:
    """b_x with the points that did not converge set to NaN."""
    return ds.bx.where(ds.converged.astype(bool)).astype(float)


def most_bimodal(ds: xr.Dataset, dim: str = "N") -> xr.Dataset:
    r"""The most bimodal detuning :math:`\Delta^*` on the grid and the two peaks of
    :math:`P(M_x = m)` there, for each value of ``dim``.

    :math:`\Delta^*` is the detuning of the largest :math:`b_x` among the points that
    converged (the smallest such Δ on a tie). Where no converged point is bimodal
    (:math:`b_x = 0` throughout, or nothing converged) :math:`\Delta^*` and the peaks are NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        Over (``dim``, Delta), with ``bx``, ``converged``, ``peak1``, ``peak2``
        (:func:`by_N`, or the archive entries ``fig4_fc``, ``fig4_2d``, ``fc_scaling``); an
        optional ``px`` over (``dim``, Delta, k) is read at :math:`\Delta^*` too.
    dim : str, default "N"
        The dimension to read per value.

    Returns
    -------
    xarray.Dataset
        Over ``dim``: ``Delta_star`` [Γ], ``bx`` (:math:`b_x` at :math:`\Delta^*`, the largest
        over the grid; 0 where none is bimodal), ``peak_lower``, ``peak_upper`` (the two peak
        positions m, ordered); and ``px`` over (``dim``, k) at :math:`\Delta^*` when ``ds``
        has it (with its coordinate ``m``).
    """
    _check_entry(ds, dim, ("bx", "converged", "peak1", "peak2"))
    bx = _converged_bx(ds).transpose(dim, "Delta").values
    p1 = ds.peak1.transpose(dim, "Delta").values.astype(float)
    p2 = ds.peak2.transpose(dim, "Delta").values.astype(float)
    n = ds.sizes[dim]
    star, best = np.full(n, np.nan), np.full(n, np.nan)
    lower, upper = np.full(n, np.nan), np.full(n, np.nan)
    pick = np.full(n, -1)
    for i in range(n):
        b = bx[i]
        if not np.isfinite(b).any():
            continue
        j = int(np.nanargmax(b))
        best[i] = b[j]
        if b[j] > 0:
            pick[i] = j
            star[i] = float(ds.Delta[j])
            lower[i], upper[i] = sorted((p1[i, j], p2[i, j]))
    out = xr.Dataset({"Delta_star": (dim, star), "bx": (dim, best),
                      "peak_lower": (dim, lower), "peak_upper": (dim, upper)},
                     coords={dim: ds[dim].values})
    if "px" in ds:
        px = ds.px.transpose(dim, "Delta", ...)
        rest = [d for d in px.dims if d not in (dim, "Delta")]
        values = np.full((n, *(px.sizes[d] for d in rest)), np.nan)
        for i, j in enumerate(pick):
            if j >= 0:
                values[i] = px.values[i, j]
        out["px"] = ((dim, *rest), values)
        if "m" in ds.coords and set(ds.m.dims) <= {dim, *rest}:
            out = out.assign_coords(m=ds.m)
    out.attrs["what"] = "most bimodal detuning and the peaks of P(M_x) there"
    return out


def bimodal_width(Delta, bx) -> float:
    r"""Width of the bimodal Δ range on a grid: the distance between the smallest and the
    largest detuning where :math:`b_x > 0` (0 when there is none; NaN points left out).

    Parameters
    ----------
    Delta : array_like, shape (n,)
        Detunings [Γ], n ≥ 3.
    bx : array_like, shape (n,)
        The bimodality index at each detuning (NaN where the point did not converge).

    Returns
    -------
    float
        The width [Γ].

    Examples
    --------
    >>> bimodal_width([1.0, 1.5, 2.0, 2.5], [0.0, 0.1, 0.2, 0.0])
    0.5
    """
    Delta, bx = np.asarray(Delta, float), np.asarray(bx, float)
    if Delta.ndim != 1 or Delta.shape != bx.shape or Delta.size < 3:
        raise ValueError(f"Delta, bx must be two 1D arrays of equal length >= 3, got shapes "
                         f"{Delta.shape} and {bx.shape}")
    on = Delta[np.nan_to_num(bx) > 0]
    return float(on.max() - on.min()) if on.size else 0.0


def growth(ds: xr.Dataset, dim: str = "N") -> xr.Dataset:
    r"""The largest :math:`b_x` and the width of the bimodal Δ range for each value of ``dim``
    (the question of App. A over N; of Fig. 1c over :math:`J\mathcal Z`).

    The width on a grid is the distance between the smallest and the largest detuning where
    :math:`b_x > 0` (:func:`bimodal_width`); points that did not
    converge are left out of both.

    Parameters
    ----------
    ds : xarray.Dataset
        Over (``dim``, Delta) (other dimensions, such as ``m``, are ignored), with ``bx`` and
        ``converged``.
    dim : str, default "N"

    Returns
    -------
    xarray.Dataset
        Over ``dim``: ``bx_max`` (NaN where nothing converged) and ``width`` [Γ] (0 where
        nothing is bimodal).

    Examples
    --------
    >>> ds = xr.Dataset({"bx": (("N", "Delta"), [[0, .1, .2, 0], [.1, .3, .2, 0]]),
    ...                  "converged": (("N", "Delta"), np.ones((2, 4), bool))},
    ...                 coords={"N": [8, 9], "Delta": [1.0, 1.5, 2.0, 2.5]})
    >>> g = growth(ds)
    >>> print(g.bx_max.values, g.width.values)
    [0.2 0.3] [0.5 1. ]
    """
    _check_entry(ds, dim, ("bx", "converged"))
    bx = _converged_bx(ds).transpose(dim, "Delta").values
    delta = ds.Delta.values.astype(float)
    best = np.array([np.nanmax(b) if np.isfinite(b).any() else np.nan for b in bx])
    width = np.array([bimodal_width(delta, b) for b in bx])
    return xr.Dataset({"bx_max": (dim, best), "width": (dim, width)},
                      coords={dim: ds[dim].values})


_TRENDS = {"up": "grows", "down": "shrinks", "up_flat": "grows, with flat steps",
           "down_flat": "shrinks, with flat steps", "flat": "stays the same",
           "mixed": "is not monotonic"}


def trend(values, rtol: float = 1e-9) -> str:
    """How a sequence changes from its first value to its last, in words for a sentence
    ("the width … *grows*").

    Parameters
    ----------
    values : array_like, shape (n,)
        At least two finite numbers.
    rtol : float, default 1e-9
        A step smaller than ``rtol`` times the largest ``|values|`` is flat (widths read off a
        grid differ by rounding where they are equal).

    Returns
    -------
    str
        ``"grows"`` (every step up), ``"shrinks"`` (every step down), ``"grows, with flat
        steps"`` / ``"shrinks, with flat steps"`` (never the other way, some steps equal, as
        widths on a grid are), ``"stays the same"`` or ``"is not monotonic"``.

    Examples
    --------
    >>> trend([0.1, 0.2, 0.4]), trend([0.3, 0.3, 0.5]), trend([0.2, 0.1, 0.3])
    ('grows', 'grows, with flat steps', 'is not monotonic')
    """
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"values must be numbers, got {values!r}") from None
    if v.ndim != 1 or v.size < 2 or not np.isfinite(v).all():
        raise ValueError(f"values must be at least two finite numbers in a 1D sequence, "
                         f"got {values!r}")
    if isinstance(rtol, bool) or not isinstance(rtol, Real) or not 0 <= rtol < 1:
        raise ValueError(f"rtol must be a number in [0, 1), got {rtol!r}")
    step = np.diff(v)
    step[np.abs(step) <= rtol * np.abs(v).max()] = 0.0
    if (step > 0).all():
        return _TRENDS["up"]
    if (step < 0).all():
        return _TRENDS["down"]
    if (step == 0).all():
        return _TRENDS["flat"]
    if (step >= 0).all():
        return _TRENDS["up_flat"]
    if (step <= 0).all():
        return _TRENDS["down_flat"]
    return _TRENDS["mixed"]
