"""The paper's stated numbers beside the book's, computed from the archive in ``results/``.

Each ``*_row`` function takes the archived dataset(s) it needs (``None`` where the entry has
not been made) and returns a :class:`Row`: what the paper shows, what the book computes, the
paper's number, ours, their difference and a verdict. :func:`rows` loads the archive and
returns every row; :func:`table` turns rows into a :class:`pandas.DataFrame` for the
reproduction chapter. Nothing here is typed in from a previous run: change the data and the
numbers change (``tests/test_paper.py`` checks it).

Two helpers are used by the chain chapter as well: :func:`crossover_range` and
:func:`mfqf_error`. Every chapter reads the archive through :func:`archived`: with
``match={"Omega": Omega, ...}`` an entry made at other parameters than the chapter's is not
returned (a rerun at Ω = 0.7 must not draw the paper's Ω = 0.5 curves beside its own), and
:func:`not_drawn` gives the caption's sentence saying why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ddlib.paper import clusters, maps
from ddlib.paper.clusters import bimodal_width
from ddlib.paper.convergence import CHI_PAPER

__all__ = ["Row", "NOT_ARCHIVED", "archived", "not_drawn", "core_hours", "archive_cost",
           "recipe", "tex_number", "tex_lattices", "crossover_range",
           "mfqf_error", "bimodal_width",
           "mf_window_row", "crossover_row", "mfqf_accuracy_row", "correlations_1d_row",
           "mfqf_2d_near", "mpo_2d_row", "windows_2d_3d_row", "windows_vs_D_row", "sigma_2d_row",
           "ising_threshold_row", "ising_window_row", "ising_ratios", "ising_fig7_row",
           "translation_row", "fig1c_row", "appendix_a_row", "appendix_a_trends",
           "appendix_d_row", "rows", "table",
           "to_html"]

#: The verdict of a row whose data are not in the archive.
NOT_ARCHIVED = "not yet archived"

#: |μ_x(MFQF) − μ_x(MPO)| below which MFQF counts as quantitatively accurate.
MFQF_TOL = 0.01

_BOOK = Path(__file__).resolve().parents[2] / "book"


@dataclass(frozen=True)
class Row:
    """One line of the reproduction table.

    Attributes
    ----------
    figure : str
        The paper's figure and panel (or appendix).
    shows : str
        What the paper shows or states there.
    computes : str
        What the book computes for it (method, lattice, parameters, archive entry).
    paper : str
        The paper's stated number.
    ours : str
        Ours, computed from the archive.
    difference : str
        Ours against the paper's.
    verdict : str
        ``"agrees"``, ``"differs"`` (with why), or :data:`NOT_ARCHIVED`.
    numbers : dict
        The numbers behind ``ours`` (floats), for the chapter's prose.
    """

    figure: str
    shows: str
    computes: str
    paper: str
    ours: str
    difference: str
    verdict: str
    numbers: dict = field(default_factory=dict)


def _check_ds(name: str, ds, needs: tuple[str, ...]) -> None:
    if ds is None:
        return
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"{name} must be an xarray.Dataset or None, got {type(ds).__name__}")
    missing = [v for v in needs if v not in ds.variables]
    if missing:
        raise ValueError(f"{name} lacks the variables {missing}")


def _missing(figure, shows, computes, paper, entry: str, command: str | None = None) -> Row:
    command = command or f"python -m ddlib.archive make {entry}"
    return Row(figure, shows, computes, paper, "not computed",
               f"the archive entry `{entry}` is missing (`{command}` makes it)", NOT_ARCHIVED)



def _absent(name: str, ds, needs: tuple[str, ...], args: tuple, entry: str) -> Row | None:
    """Check ``ds`` (:func:`_check_ds`); the row's 'not yet archived' form when it is None."""
    _check_ds(name, ds, needs)
    return _missing(*args, entry) if ds is None else None


def _arrays(name: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim != 1 or x.shape != y.shape or x.size < 3:
        raise ValueError(f"{name} must be two 1D arrays of equal length >= 3, got shapes "
                         f"{x.shape} and {y.shape}")
    return x, y


# ----------------------------------------------------------------------------- helpers

#: How a matched option is written in a caption (LaTeX, as in the chapters).
SYMBOLS = {"Omega": r"\Omega", "JZ": r"J\mathcal Z", "JzZ": r"J_z\mathcal Z",
           "Delta": r"\Delta", "N": "N", "L": "L", "D": "D"}

#: Relative tolerance within which a number of ``match`` equals the entry's option.
MATCH_RTOL = 1e-12


def _same(a, b) -> bool:
    """Option values equal: numbers within :data:`MATCH_RTOL`, sequences element by element,
    anything else exactly."""
    num = (int, float, np.integer, np.floating)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool | np.bool_) \
            and not isinstance(b, bool | np.bool_):
        return bool(np.isclose(float(a), float(b), rtol=MATCH_RTOL, atol=0.0))
    if isinstance(a, list | tuple | np.ndarray) and isinstance(b, list | tuple | np.ndarray):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _value(v) -> str:
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
        return f"{float(v):g}"
    return str(v)


def _equations(items) -> str:
    return ", ".join(f"${SYMBOLS.get(k, k)} = {_value(v)}$" for k, v in items)


def _mismatch(name: str, ds: xr.Dataset, match) -> str | None:
    """The sentence saying why ``ds`` is not drawn beside a computation at ``match``, or None
    when every option in ``match`` agrees."""
    if match is None:
        return None
    if not hasattr(match, "items") or not all(isinstance(k, str) for k in match):
        raise TypeError(f"match must be a mapping of option names to values, got {match!r}")
    options = json.loads(ds.attrs["options"])
    unknown = [k for k in match if k not in options]
    if unknown:
        raise ValueError(f"match names {unknown}, which the entry {name!r} does not have "
                         f"(its options: {sorted(options)})")
    differ = [(k, v) for k, v in match.items() if not _same(v, options[k])]
    if not differ:
        return None
    return (f"The archived curves of `{name}` (at {_equations((k, options[k]) for k in match)})"
            f" are not drawn: this build runs {_equations(differ)}.")


def archived(name: str, directory: str | Path | None = None, *,
             match=None) -> xr.Dataset | None:
    """The archived dataset ``name`` (:func:`ddlib.archive.load`), or None when it is not to
    be drawn beside the chapter's computation.

    Parameters
    ----------
    name : str
        An entry of :data:`ddlib.archive.ENTRIES`.
    directory : str or Path, optional
        The archive's folder (default ``results/``).
    match : mapping, optional
        The chapter's physical parameters, option name -> value (e.g.
        ``{"Omega": Omega, "JZ": JZ}``), compared with the entry's options
        (``json.loads(ds.attrs["options"])``): numbers within a relative
        :data:`MATCH_RTOL`, sequences element by element, anything else exactly.

    Returns
    -------
    xarray.Dataset or None
        None when the entry has not been made, or when an option of ``match`` differs (a
        rerun at other parameters must not draw curves at the paper's beside its own);
        :func:`not_drawn` says which.

    Raises
    ------
    ValueError
        For an unknown ``name``, or a key of ``match`` that the entry's options lack.
    """
    from ddlib import archive

    if not isinstance(name, str) or name not in archive.ENTRIES:
        raise ValueError(f"name must be one of {sorted(archive.ENTRIES)}, got {name!r}")
    try:
        ds = archive.load(name, directory)
    except FileNotFoundError:
        return None
    return None if _mismatch(name, ds, match) is not None else ds


def not_drawn(name: str, directory: str | Path | None = None, *, match=None) -> str | None:
    r"""Why :func:`archived` returns None for the same arguments, as a caption sentence
    (Markdown), or None when the entry is drawn.

    Parameters
    ----------
    name, directory, match
        As in :func:`archived`.

    Returns
    -------
    str or None
        For a missing entry, "The archive entry `NAME` has not been made (`python -m
        ddlib.archive make NAME`)."; for a mismatch, the matched options at the entry's values
        and the differing ones at the build's (example below).

    Examples
    --------
    >>> not_drawn("mf_response", match={"Omega": 0.5, "JZ": 4.0}) is None
    True
    >>> print(not_drawn("mf_response", match={"Omega": 0.7, "JZ": 4.0}))
    ... # doctest: +NORMALIZE_WHITESPACE
    The archived curves of `mf_response` (at $\Omega = 0.5$, $J\mathcal Z = 4$) are not
    drawn: this build runs $\Omega = 0.7$.
    """
    from ddlib import archive

    if not isinstance(name, str) or name not in archive.ENTRIES:
        raise ValueError(f"name must be one of {sorted(archive.ENTRIES)}, got {name!r}")
    try:
        ds = archive.load(name, directory)
    except FileNotFoundError:
        return (f"The archive entry `{name}` has not been made "
                f"(`python -m ddlib.archive make {name}`).")
    return _mismatch(name, ds, match)


def core_hours(ds: xr.Dataset) -> float:
    r"""The CPU time an archived entry cost, in core-hours, from its provenance: the wall time
    of its make times the worker processes of its recipe (``workers``, default 1; each worker
    runs one BLAS thread), or the summed wall time of its points where that is larger (each
    point ran on one core; a make that resumed from cached points took less wall time).

    Parameters
    ----------
    ds : xarray.Dataset
        An archived entry (:func:`archived`), with the ``wall_time_s`` and ``options``
        attributes of its provenance.

    Returns
    -------
    float
        Core-hours.

    Examples
    --------
    >>> import json, xarray as xr
    >>> made = xr.Dataset(attrs={"wall_time_s": 1800.0, "options": json.dumps({"workers": 2})})
    >>> core_hours(made)
    1.0
    """
    from ..archive import compute_time

    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an archived xarray.Dataset, got {type(ds).__name__}")
    if "wall_time_s" not in ds.attrs:
        raise ValueError("ds has no 'wall_time_s' attribute (its make's wall time): not an "
                         "archived entry")
    workers = json.loads(ds.attrs.get("options", "{}")).get("workers", 1)
    seconds = max(float(ds.attrs["wall_time_s"]) * int(workers), compute_time(ds))
    return seconds / 3600


def _core_time(hours: float) -> str:
    """Core-hours in words: "2.5 core-hours", "26 core-minutes", "8 core-seconds"."""
    if hours >= 1:
        return f"{hours:.1f} core-hours"
    return (f"{hours * 60:.0f} core-minutes" if hours * 60 >= 1.5 else
            f"{hours * 3600:.0f} core-seconds")


def archive_cost(names, directory: str | Path | None = None) -> str:
    """A chapter's cost sentence: the CPU time of each archived entry in ``names``
    (:func:`core_hours`), with a pointer to the archive page for the provenance it is read
    from (an entry not yet made is named as such).

    Returns
    -------
    str
        Markdown (MyST), e.g. "`fig4_2d` took about 26 core-minutes (CPU time from its
        provenance on the {doc}`archive page <archive>`)".
    """
    if isinstance(names, str) or not all(isinstance(n, str) for n in names) or not names:
        raise TypeError(f"names must be a non-empty list of entry names, got {names!r}")
    parts, made = [], 0
    for name in names:
        ds = archived(name, directory)
        if ds is None:
            parts.append(f"`{name}` has not been made yet")
        else:
            made += 1
            parts.append(f"`{name}` took about {_core_time(core_hours(ds))}")
    where = "its provenance" if made == 1 else "their provenance"
    return "; ".join(parts) + (f" (CPU time from {where} on the {{doc}}`archive page "
                               "<archive>`)" if made else "")


def recipe(name: str) -> dict:
    """The options the archive entry ``name`` is made with (:data:`ddlib.archive.ENTRIES`), so
    that prose describing an entry is computed from its recipe whether or not the file is
    present (a copy: editing it changes nothing)."""
    import copy

    from ..archive import ENTRIES

    if name not in ENTRIES:
        raise ValueError(f"name: no archive entry {name!r}; entries: {', '.join(ENTRIES)}")
    return copy.deepcopy(ENTRIES[name].options)


def tex_number(x: float, digits: int = 1) -> str:
    """``x`` in LaTeX powers of ten with ``digits`` significant figures, a mantissa of 1
    omitted: ``1e-3`` → ``10^{-3}``, ``2e-3`` → ``2\\cdot10^{-3}``, ``40000`` →
    ``4\\cdot10^{4}``; between 0.1 and 1000 the plain number (``0.5``, ``12``)."""
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise TypeError(f"x must be a real number, got {x!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    x = float(x)
    if not np.isfinite(x) or x == 0 or 0.1 <= abs(x) < 1000:
        return f"{x:.{max(digits, 3)}g}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if float(mantissa) == 1 else f"{mantissa}\\cdot{power}"


def tex_lattices(pairs, sep: str = ", ") -> str:
    """Periodic lattices ``[(D, L), ...]`` as ``$L$`` (D = 1) or ``$L^D$``, joined by ``sep``."""
    try:
        pairs = [(int(D), int(L)) for D, L in pairs]
    except (TypeError, ValueError):
        raise TypeError(f"pairs must be a sequence of (D, L) integer pairs, got {pairs!r}") \
            from None
    return sep.join(f"${int(L)}$" if int(D) == 1 else f"${int(L)}^{int(D)}$" for D, L in pairs)


def crossover_range(Delta, mu_x) -> tuple[float, float, bool]:
    r"""The 1D crossover as the Δ interval between the maximum and the minimum of
    :math:`\mu_x^S(\Delta)`.

    On the low-Δ side :math:`\mu_x^S` rises with Δ (the spin follows the drive), on the high-Δ
    side it is negative and returns towards 0 as :math:`\Delta\to\infty`; in between it falls
    through zero. The extrema are refined by a parabola through the grid extremum and its
    neighbours.

    Parameters
    ----------
    Delta, mu_x : array_like, shape (n,)
        Detunings (increasing) and the steady-state :math:`\mu_x^S` there (NaN: left out).

    Returns
    -------
    lower, upper : float
        Δ of the maximum and of the minimum of :math:`\mu_x^S`.
    upper_at_end : bool
        True when the minimum is the last point of the grid (the crossover may extend
        further).
    """
    Delta, mu_x = _arrays("Delta, mu_x", Delta, mu_x)
    ok = np.isfinite(mu_x)
    Delta, mu_x = Delta[ok], mu_x[ok]

    def refine(k):
        if 0 < k < len(Delta) - 1:
            a, b, _ = np.polyfit(Delta[k - 1:k + 2], mu_x[k - 1:k + 2], 2)
            if a != 0 and Delta[k - 1] <= -b / (2 * a) <= Delta[k + 1]:
                return float(-b / (2 * a))
        return float(Delta[k])

    hi = int(np.argmin(mu_x))
    return refine(int(np.argmax(mu_x))), refine(hi), hi == len(Delta) - 1


def mfqf_error(Delta_ref, mu_ref, Delta, mu) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`|\mu_x^{\rm MFQF} - \mu_x^{\rm ref}|` at the reference detunings inside the MFQF
    grid (MFQF interpolated linearly).

    Returns
    -------
    Delta : ndarray, shape (m,)
        The reference detunings inside the MFQF range.
    error : ndarray, shape (m,)
    """
    Delta_ref, mu_ref = _arrays("Delta_ref, mu_ref", Delta_ref, mu_ref)
    Delta, mu = _arrays("Delta, mu", Delta, mu)
    ok = np.isfinite(mu)
    inside = (Delta_ref >= Delta[ok].min()) & (Delta_ref <= Delta[ok].max())
    return Delta_ref[inside], np.abs(np.interp(Delta_ref[inside], Delta[ok], mu[ok])
                                     - mu_ref[inside])


def _agree(ok: bool, why_not: str = "") -> str:
    return "agrees" if ok else f"differs: {why_not}" if why_not else "differs"


def _stated(value: float, stated: float, tol: float) -> bool:
    """Ours agrees with a number the paper states to ``tol`` (half its last digit)."""
    return abs(value - stated) <= tol + 1e-12


# ----------------------------------------------------------------------------- rows

def mf_window_row(mf: xr.Dataset | None) -> Row:
    """Fig. 2a: the MF bistable window at Ω = 0.5, J𝒵 = 4 (the Δ range of the unstable
    branch of ``mf_response``, which ends at the two folds)."""
    args = ("Fig. 2a (MF)", "MF is bistable, three fixed points, for 1.3 ≲ Δ ≲ 1.9",
            "MF response curve, every branch, Ω = 0.5, J𝒵 = 4 (`mf_response`)", "1.3 – 1.9")
    if (missing := _absent("mf", mf, ("Delta", "stable"), args, "mf_response")) is not None:
        return missing
    unstable = mf.Delta.values[~mf.stable.values.astype(bool)]
    lo, hi = float(unstable.min()), float(unstable.max())
    ok = _stated(lo, 1.3, 0.05) and _stated(hi, 1.9, 0.05)
    return Row(*args, f"{lo:.3f} – {hi:.3f}", f"{lo - 1.3:+.3f}, {hi - 1.9:+.3f}",
               _agree(ok, "beyond the paper's rounding"), {"lower": lo, "upper": hi})


def crossover_row(mpo: xr.Dataset | None) -> Row:
    """Fig. 2a: the 1D crossover range from the archived MPO chain (:func:`crossover_range`)."""
    args = ("Fig. 2a (MPO)", "a crossover instead of bistability, in 1.5 ≲ Δ ≲ 5",
            "MPO, open chain, central sites; crossover = Δ between the maximum and the minimum "
            "of μ_x (`fig2_mpo`)", "1.5 – 5")
    if (missing := _absent("mpo", mpo, ("Delta", "mu_x", "converged"),
                           args, "fig2_mpo")) is not None:
        return missing
    mu = np.where(mpo.converged.values.astype(bool), mpo.mu_x.values, np.nan)
    lo, hi, at_end = crossover_range(mpo.Delta.values, mu)
    step = float(np.max(np.diff(mpo.Delta.values)))
    ok = _stated(lo, 1.5, 0.25) and (_stated(hi, 5.0, 0.5) or at_end and hi >= 4.5)
    ours = f"{lo:.2f} – {hi:.2f}" + (" (the minimum is the grid's last point)" if at_end else "")
    return Row(*args, ours, f"{lo - 1.5:+.2f}, {hi - 5:+.2f} (grid spacing up to {step:g})",
               _agree(ok, "the extrema lie elsewhere"), {"lower": lo, "upper": hi})


def mfqf_accuracy_row(mpo: xr.Dataset | None, mfqf: xr.Dataset | None) -> Row:
    """Fig. 2a: where MFQF (1D) is quantitatively accurate against MPO."""
    _check_ds("mpo", mpo, ("Delta", "mu_x"))
    _check_ds("mfqf", mfqf, ("Delta", "mu_x", "D"))
    args = ("Fig. 2a (MFQF)", "MFQF is quantitatively accurate on both sides of the crossover,"
            " only qualitative in its centre",
            f"|μ_x(MFQF 1D, L = 400) − μ_x(MPO)| at the MPO detunings; accurate: below "
            f"{MFQF_TOL:g} (`fig3_mfqf`, `fig2_mpo`)", "both sides accurate")
    if mpo is None or mfqf is None:
        return _missing(*args, "fig2_mpo" if mpo is None else "fig3_mfqf")
    q = mfqf.sel(D=1).sel(direction="up") if "direction" in mfqf.dims else mfqf.sel(D=1)
    D, err = mfqf_error(mpo.Delta.values, mpo.mu_x.values, q.Delta.values, q.mu_x.values)
    bad = D[err >= MFQF_TOL]
    worst = int(np.argmax(err))
    if bad.size == 0:
        return Row(*args, f"accurate everywhere (max {err.max():.3f})", "—",
                   "differs: no inaccurate centre", {"max_error": float(err.max())})
    low_ok, high_ok = D[(D < bad.min())], D[(D > bad.max())]
    ok = low_ok.size > 0 and high_ok.size > 0
    ours = (f"accurate for Δ ≤ {low_ok.max() if low_ok.size else np.nan:g} and "
            f"Δ ≥ {high_ok.min() if high_ok.size else np.nan:g}; off by up to "
            f"{err[worst]:.2f} at Δ = {D[worst]:g}")
    return Row(*args, ours, "—", _agree(ok, "not accurate on both sides"),
               {"accurate_below": float(low_ok.max()) if low_ok.size else np.nan,
                "accurate_above": float(high_ok.min()) if high_ok.size else np.nan,
                "max_error": float(err[worst]), "max_error_at": float(D[worst])})


def correlations_1d_row(mpo: xr.Dataset | None) -> Row:
    """Figs. 2b, c: λ_xx and Σ_xx across the crossover (MPO)."""
    args = ("Figs. 2b, c", "correlations change from small and extended (low Δ) to large and "
            "short-ranged within the crossover", "MPO λ_xx and Σ_xx on the chain (`fig2_mpo`)",
            "qualitative")
    if (missing := _absent("mpo", mpo, ("Delta", "lambda_xx", "sigma_xx"),
                           args, "fig2_mpo")) is not None:
        return missing
    D, lam, sig = mpo.Delta.values, mpo.lambda_xx.values, mpo.sigma_xx.values
    k = int(np.nanargmax(sig))
    ok = sig[k] > 10 * sig[0] and lam[k] > lam[0]
    ours = (f"Δ = {D[0]:g}: λ_xx = {lam[0]:.2f}, Σ_xx = {sig[0]:.3f}; peak Σ_xx = {sig[k]:.2f} "
            f"at Δ = {D[k]:g} with λ_xx = {lam[k]:.2f}; Δ = {D[-1]:g}: Σ_xx = {sig[-1]:.3f}")
    return Row(*args, ours, f"Σ_xx × {sig[k] / sig[0]:.0f}, λ_xx × {lam[k] / lam[0]:.1f}",
               _agree(ok), {"sigma_peak": float(sig[k]), "sigma_peak_at": float(D[k])})


#: The paper's 2D claim: MPO and MFQF agree for Δ ≲ 1.5 and Δ ≳ 2.5.
MPO_2D_SIDES = (1.5, 2.5)


def mfqf_2d_near(mfqf: xr.Dataset, deltas, mu) -> np.ndarray:
    """μ of MFQF in 2D (``fig3_mfqf`` at D = 2) at the detunings ``deltas``, interpolated
    linearly along each sweep where it exists, from the sweep nearer to ``mu`` (judged by
    max(|Δμ_x|, |Δμ_z|)): a finite cylinder has one steady state, the MFQF window two.

    Parameters
    ----------
    mfqf : xarray.Dataset
        The archived ``fig3_mfqf`` (dimensions D, Delta and direction).
    deltas : array_like, shape (n,)
    mu : array_like, shape (n, 3)
        The magnetisations to be compared (e.g. MPO on a cylinder).

    Returns
    -------
    numpy.ndarray, shape (n, 3)
        NaN where no sweep covers Δ.
    """
    _check_ds("mfqf", mfqf, ("Delta", "mu_x", "D"))
    if mfqf is None:
        raise TypeError("mfqf must be the archived fig3_mfqf Dataset, got None")
    deltas = np.asarray(deltas, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if deltas.ndim != 1 or not np.all(np.isfinite(deltas)):
        raise ValueError(f"deltas must be a 1-d array of finite detunings, got {deltas!r}")
    if mu.shape != (deltas.size, 3):
        raise ValueError(f"mu must have shape ({deltas.size}, 3), got {mu.shape}")
    two = mfqf.sel(D=2)
    walks = [two.sel(direction=w) for w in two.direction.values] if "direction" in two.dims \
        else [two]
    out, best = np.full((deltas.size, 3), np.nan), np.full(deltas.size, np.inf)
    for w in walks:  # each sweep where it exists, interpolated linearly
        ok = np.isfinite(w.mu_x.values)
        x = w.Delta.values[ok]
        inside = (deltas >= x.min()) & (deltas <= x.max())
        m = np.stack([np.interp(deltas, x, w[f"mu_{a}"].values[ok]) for a in "xyz"], -1)
        dist = np.abs(m - mu)[:, [0, 2]].max(axis=1)
        near = inside & (dist < best)
        out[near], best[near] = m[near], dist[near]
    return out


def mpo_2d_row(cylinder: xr.Dataset | None, mfqf: xr.Dataset | None,
               lengths: xr.Dataset | None = None) -> Row:
    """Figs. 3a, 8: 2D MPO on the 12 × 4 cylinder against MFQF on 200². Ours: |μ_a(MFQF 2D) −
    μ_a(MPO)| for a = x (Figs. 3a, 8a) and z (Fig. 8b) at each archived cylinder detuning
    (:func:`ddlib.paper.convergence.cylinder_points`: the largest χ computed there), MFQF
    interpolated along each sweep and the nearer of the two branches taken (a finite cylinder
    has one steady state); agrees when at every detuning at or below 1.5 and at or above 2.5
    (at least one on each side) both are within :data:`MFQF_TOL`. With ``lengths`` (the
    archived ``cylinder_length``, with column profiles), at its detunings the bulk value
    decides instead, μ over the central four columns of its longest cylinder
    (:func:`ddlib.paper.convergence.cylinder_centre`): a short cylinder's central column
    sits where the oscillations from its open ends meet."""
    from .convergence import cylinder_centre, cylinder_lengths, cylinder_points

    args = ("Figs. 3a, 8 (MPO)", "2D MPO ≈ MFQF for Δ ≲ 1.5 and Δ ≳ 2.5",
            f"|μ_x|, |μ_z| differences of MFQF 2D (200²) and MPO (12 × 4) at the archived "
            f"cylinder detunings, and over the central four columns of a longer cylinder "
            f"where archived; agreement: below {MFQF_TOL:g} "
            "(`cylinder_convergence`, `cylinder_length`, `fig3_mfqf`)", "Δ ≲ 1.5, Δ ≳ 2.5")
    _check_ds("cylinder", cylinder, ("mu_x", "spread", "Lx"))
    _check_ds("mfqf", mfqf, ("Delta", "mu_x", "D"))
    _check_ds("lengths", lengths, ("mu_x", "spread", "Lx", "profile"))
    if cylinder is None or mfqf is None:
        return _missing(*args, "cylinder_convergence" if cylinder is None else "fig3_mfqf")
    pts = cylinder_points(cylinder)
    ref = mfqf_2d_near(mfqf, pts["Delta"], pts["mu"])
    err = {a: np.nan_to_num(np.abs(ref[:, i] - pts["mu"][:, i]), nan=np.inf)
           for a, i in (("x", 0), ("z", 2))}
    worst = np.maximum(err["x"], err["z"])
    bulk, bulk_text = {}, ""
    if lengths is not None:
        c = cylinder_lengths(lengths)
        centre = cylinder_centre(lengths, 4)
        dist = np.abs(mfqf_2d_near(mfqf, c["Delta"], centre) - centre)[:, [0, 2]]
        for d, (ex, ez) in zip(c["Delta"], dist, strict=True):
            hit = np.flatnonzero(np.isclose(pts["Delta"], d))
            if hit.size and np.isfinite(max(ex, ez)):
                worst[hit[0]] = max(ex, ez)
                bulk[float(d)] = (float(ex), float(ez))
        bulk_text = (f"; the central four columns of the {c['Lx'][-1]} × {c['Ly']} cylinder "
                     f"(`cylinder_length`), which decide where computed: " + "; ".join(
                         f"Δ = {d:g}: {ex:.3f} in μ_x, {ez:.3f} in μ_z"
                         for d, (ex, ez) in bulk.items())) if bulk else ""
    lo, hi = MPO_2D_SIDES
    low, high = pts["Delta"] <= lo + 1e-12, pts["Delta"] >= hi - 1e-12
    where = f"{pts['Lx']} × {pts['Ly']}, χ = {', '.join(str(c) for c in sorted(set(pts['chi'])))}"
    ours = "; ".join(f"Δ = {d:g}: {ex:.3f} in μ_x, {ez:.3f} in μ_z"
                     for d, ex, ez in zip(pts["Delta"], err["x"], err["z"], strict=True))
    numbers = {"errors": dict(zip(pts["Delta"].tolist(), err["x"].tolist(), strict=True)),
               "errors_z": dict(zip(pts["Delta"].tolist(), err["z"].tolist(), strict=True)),
               "bulk_errors": {d: max(e) for d, e in bulk.items()}}
    ours = f"{ours} ({where}){bulk_text}"
    if not low.any() or not high.any():
        return Row(*args, ours, "—",
                   "differs: no archived detuning on "
                   + ("either side" if not (low.any() or high.any()) else
                      "the low-Δ side" if not low.any() else "the high-Δ side"), numbers)
    outside = worst[low | high]
    at = pts["Delta"][low | high][int(np.argmax(outside))]
    return Row(*args, ours, f"max {outside.max():.3f} outside (1.5, 2.5)",
               _agree(bool(np.all(outside < MFQF_TOL)),
                      f"{outside.max():.3f} at Δ = {at:g}, above {MFQF_TOL:g}"),
               {**numbers, "max_outside": float(outside.max())})


#: The paper's "relative errors of the order of 1e-4" (App. C), read as at most 5e-4.
TRANSLATION_TOL = 5e-4


def translation_row(cylinder: xr.Dataset | None) -> Row:
    """App. C: the cylinder's magnetisation translation invariant in y to a relative 1e-4
    (order of magnitude, :data:`TRANSLATION_TOL`). Ours: the spread of μ over the central
    column(s) of the longest archived Lx × 4 cylinder at its largest computed χ
    (``cylinder_convergence``), relative to max_a |μ_a|, the largest over the detunings. On
    an even Lx the two central columns are mirror images, so the spread also measures the
    path's breaking of that reflection."""
    args = ("App. C", "the 12 × 4 cylinder's magnetisation is translation invariant in y "
            "to a relative 1e-4 at χ = 400")
    computes = "spread of μ over the central column(s), relative to max |μ_a| " \
        "(`cylinder_convergence`)"
    if (missing := _absent("cylinder", cylinder, ("spread", "Lx", "Ly", "chi"),
                           (*args, computes, "1e-4"), "cylinder_convergence")) is not None:
        return missing
    four = [k for k in range(cylinder.sizes["case"]) if int(cylinder.Ly[k]) == 4]
    if not four:
        return Row(*args, computes, "1e-4", "—", "no Lx × 4 cylinder archived", NOT_ARCHIVED)
    k = max(four, key=lambda k: int(cylinder.Lx[k]))
    last = []  # (relative spread, χ, Δ) of each detuning at its largest computed χ
    for d in cylinder.Delta.values:
        one = cylinder.isel(case=k).sel(Delta=d)
        done = np.flatnonzero(np.isfinite(one.spread.values))
        if done.size:
            j = int(done[-1])
            mu = max(abs(float(one[f"mu_{a}"][j])) for a in "xyz")
            last.append((float(one.spread[j]) / mu, int(cylinder.chi[j]), float(d)))
    if not last:
        return Row(*args, computes, "1e-4", "—", "no χ computed", NOT_ARCHIVED)
    rel, chi, d = max(last)
    numbers = {"relative_spread": rel, "Lx": int(cylinder.Lx[k]), "chi": chi}
    ours = f"{rel:.1e} ({int(cylinder.Lx[k])} × 4, χ = {chi}, Δ = {d:g}, the largest over Δ)"
    at_paper = [x for x in last if x[1] == CHI_PAPER]
    if at_paper and chi != CHI_PAPER:  # the paper's own χ, where computed
        rel_p = max(x[0] for x in at_paper)
        ours += (f"; at the paper's χ = {CHI_PAPER}: "
                 + ", ".join(f"{x[0]:.1e} (Δ = {x[2]:g})" for x in sorted(at_paper,
                                                                       key=lambda x: x[2])))
        numbers["relative_spread_at_paper_chi"] = rel_p
    return Row(*args, computes, "1e-4", ours, f"{rel - 1e-4:+.1e}",
               _agree(rel <= TRANSLATION_TOL, f"above {TRANSLATION_TOL:g}"), numbers)


def _window(ds: xr.Dataset) -> tuple[float, float]:
    """(lower, upper) of a hysteresis loop: where the down and the up sweeps end."""
    ends = ds.branch_end
    return float(ends.sel(direction="down")), float(ends.sel(direction="up"))


def windows_2d_3d_row(windows: xr.Dataset | None, mf: xr.Dataset | None) -> Row:
    """Fig. 3a: the MFQF bistable windows in 2D and 3D against the MF one, read from
    ``window_vs_L`` (every stable state counted; the 3D low-Δ branch's decaying part ending at
    the onset of its long-range part, :func:`ddlib.paper.maps.long_range_onset`)."""
    _check_ds("windows", windows, ("branch_end", "D", "L", "eta_far"))
    _check_ds("mf", mf, ("Delta", "stable"))
    args = ("Fig. 3a (MFQF)", "for D ≥ 2 two stable branches, in progressively larger ranges "
            "of Δ that converge towards the MF window (wider in 3D than in 2D)",
            "MFQF hysteresis on L² (L ≤ 200) and L³ (L ≤ 40), stable states only, branch ends "
            "to 1e-3; the onset of the low-Δ branch's long-range part (`window_vs_L`)",
            "no numbers (a figure)")
    if windows is None or mf is None:
        return _missing(*args, "window_vs_L" if windows is None else "mf_response")
    e = maps.edges(windows, "case")  # "full": every stable state counts
    D, L = windows.D.values.astype(int), windows.L.values.astype(int)
    k2, k3 = np.flatnonzero(D == 2), np.flatnonzero(D == 3)
    b2, b3 = k2[np.argmax(L[k2])], k3[np.argmax(L[k3])]        # the largest lattices
    m = mf_window_row(mf).numbers
    lo2, hi2, lo3, hi3, dec3 = (float(v) for v in (e["left"][b2], e["full"][b2],
                                                     e["left"][b3], e["full"][b3],
                                                     e["decaying"][b3]))
    spread = max(np.ptp(e["left"][k3]), np.ptp(e["full"][k3]))
    towards = abs(lo3 - m["lower"]) < abs(lo2 - m["lower"]) and \
        abs(hi3 - m["upper"]) < abs(hi2 - m["upper"])
    wider, wider_decaying = hi3 - lo3 > hi2 - lo2, dec3 - lo3 > hi2 - lo2
    ours = (f"every stable state: 2D {lo2:.3f} – {hi2:.3f} (width {hi2 - lo2:.3f}) on "
            f"{L[b2]}², 3D {lo3:.3f} – {hi3:.3f} (width {hi3 - lo3:.3f}) on {L[b3]}³, the same "
            f"to {spread:.3f} on {', '.join(f'{n}³' for n in L[k3])}; decaying states only: "
            f"3D {lo3:.2f} – {dec3:.2f} (width {dec3 - lo3:.2f}; the end drifts up with L, "
            f"{', '.join(f'{v:.2f}' for v in e['decaying'][k3])}); MF {m['lower']:.3f} – "
            f"{m['upper']:.3f}")
    if not towards:
        verdict = "differs: the window does not move towards MF"
    elif not wider:
        verdict = "differs in part: the window moves towards MF but does not widen from 2D to 3D"
    elif wider_decaying:
        verdict = "agrees"
    else:
        verdict = ("agrees for every stable state MFQF gives; counting only states whose "
                   "correlations decay, the 3D window is narrower than the 2D one: the widening "
                   "is a long-range (k = 0 condensed) part of the low-Δ branch")
    return Row(*args, ours, "—", verdict,
               {"lower_2d": lo2, "upper_2d": hi2, "lower_3d": lo3, "upper_3d": hi3,
                "decaying_3d": dec3, "spread_3d": float(spread)})


def windows_vs_D_row(windows: xr.Dataset | None, mf: xr.Dataset | None) -> Row:
    """Beyond the paper: the MFQF window against the dimension D = 2 … 5 (``window_vs_D``, the
    largest lattice of each D) approaching the MF window, the limit 𝒵 = 2D → ∞."""
    _check_ds("windows", windows, ("branch_end", "D", "L", "eta_far"))
    _check_ds("mf", mf, ("Delta", "stable"))
    args = ("Fig. 3 against D (beyond the paper)", "the windows converge towards the MF one "
            "as the dimension grows (the paper's reading of 2D → 3D, followed to 5D)",
            "MFQF hysteresis on the larger of two lattices per D = 2 … 5 (up to 8⁵), stable "
            "states only (`window_vs_D`)", "— (not in the paper)")
    if windows is None or mf is None:
        return _missing(*args, "window_vs_D" if windows is None else "mf_response")
    e = maps.edges(windows, "run")
    D, L = windows.D.values.astype(int), windows.L.values.astype(int)
    dims = sorted(set(D.tolist()))
    top = [int(np.flatnonzero(D == d)[np.argmax(L[D == d])]) for d in dims]
    m = mf_window_row(mf).numbers
    lo, hi, dec = (np.array([float(e[key][k]) for k in top])
                   for key in ("left", "full", "decaying"))
    towards = bool(np.all(np.diff(lo) < 0) and np.all(np.diff(hi) < 0)
                   and lo[-1] > m["lower"] and hi[-1] > m["upper"])
    monotonic_decaying = bool(np.all(np.diff(dec - lo) > 0))
    ours = ("every stable state: " + "; ".join(
        f"{d}D {a:.3f} – {b:.3f}" for d, a, b in zip(dims, lo, hi, strict=True))
        + f" (widths {', '.join(f'{w:.2f}' for w in hi - lo)}); decaying states only, widths "
        f"{', '.join(f'{w:.2f}' for w in dec - lo)}; MF {m['lower']:.3f} – {m['upper']:.3f} "
        f"(width {m['upper'] - m['lower']:.2f})")
    if not towards:
        verdict = "differs: the edges do not move monotonically towards MF's"
    elif monotonic_decaying:
        verdict = "agrees"
    else:
        verdict = ("agrees for every stable state: both edges move towards MF's, from above; "
                   "the part with decaying correlations does not widen monotonically with D")
    return Row(*args, ours, f"{lo[-1] - m['lower']:+.3f}, {hi[-1] - m['upper']:+.3f} in "
               f"{dims[-1]}D", verdict,
               {"D": dims, "lower": lo.tolist(), "upper": hi.tolist(),
                "decaying": dec.tolist()})


def _loop(ds: xr.Dataset, lo: float, hi: float, param: str):
    """The up and down sweeps restricted to the bistable window [lo, hi]."""
    inside = (ds[param] >= lo) & (ds[param] <= hi)
    return ds.sel(direction="up").where(inside, drop=True), \
        ds.sel(direction="down").where(inside, drop=True)


def sigma_2d_row(mfqf: xr.Dataset | None) -> Row:
    """Fig. 3b: Σ_xx of the two 2D branches inside the bistable window."""
    args = ("Fig. 3b", "Σ_xx differs by up to two orders of magnitude between the bistable "
            "states", "max over the 2D window of |Σ_xx(up)| / |Σ_xx(down)| (`fig3_mfqf`)",
            "10²")
    if (missing := _absent("mfqf", mfqf, ("sigma_xx", "branch_end"),
                           args, "fig3_mfqf")) is not None:
        return missing
    d2 = mfqf.sel(D=2)
    up, down = _loop(d2, *_window(d2), "Delta")
    ratio = float(np.nanmax(np.abs(up.sigma_xx.values) / np.abs(down.sigma_xx.values)))
    orders = np.log10(ratio)
    return Row(*args, f"{ratio:.0f} (10^{orders:.1f})", f"{orders - 2:+.1f} decades",
               _agree(round(orders) == 2), {"ratio": ratio})


def ising_threshold_row() -> Row:
    """App. B: MF bistability of the Ising model at Δ = 0 needs |J_z𝒵| > 3√3/2 (bisected on
    the existence of a window, :func:`ddlib.meanfield.bistable_windows`)."""
    from ddlib import meanfield
    from ddlib.model import Model

    def bistable(g):
        return bool(meanfield.bistable_windows(Model(Delta=0.0, Omega=1.0, J=-g,
                                                     coupling="ising"), 1.0, over="Omega"))

    a, b = 1.0, 4.0
    for _ in range(40):
        a, b = ((a + b) / 2, b) if not bistable((a + b) / 2) else (a, (a + b) / 2)
    onset = (a + b) / 2
    exact = 1.5 * np.sqrt(3)
    return Row("App. B", "MF bistability at Δ = 0 needs |J_z𝒵| > 2 (a necessary condition)",
               "onset of an MF bistable Ω window, bisected; closed form 3√3/2",
               "> 2", f"> {onset:.4f} (3√3/2 = {exact:.4f})", f"{onset - 2:+.3f}",
               "agrees (ours is the sharp threshold; the paper's is necessary, not sufficient)",
               {"onset": onset})


def ising_window_row(ising: xr.Dataset | None) -> Row:
    """Figs. 5, 6: the MFQF Ising window at J_z𝒵 = −6, none at −4 (100², Δ = 0)."""
    args = ("Figs. 5, 6", "J_z𝒵 = −4: smooth crossover; −6: bistable for 2.06 ≲ Ω ≲ 2.13",
            "MFQF Ising hysteresis in Ω on 100², branch ends to 1e-4 (`fig5_7_ising`)",
            "none; 2.06 – 2.13")
    if (missing := _absent("ising", ising, ("branch_end", "JzZ"),
                           args, "fig5_7_ising")) is not None:
        return missing
    lo4, hi4 = _window(ising.sel(JzZ=-4.0))
    lo, hi = _window(ising.sel(JzZ=-6.0))
    none4 = not (np.isfinite(lo4) and np.isfinite(hi4))
    ok = none4 and _stated(lo, 2.06, 0.005) and _stated(hi, 2.13, 0.005)
    ours = ("none" if none4 else f"{lo4:.3f} – {hi4:.3f}") + f"; {lo:.3f} – {hi:.3f}"
    return Row(*args, ours, f"{lo - 2.06:+.3f}, {hi - 2.13:+.3f}", _agree(ok),
               {"lower": lo, "upper": hi})


def ising_ratios(zoom: xr.Dataset) -> tuple[float, float]:
    """The largest ratios between the two Ising branches inside their bistable Ω window: of
    λ_zz (strong-drive over weak-drive branch: correlation lengths) and of |Σ_zz| (weak over
    strong); NaN where the sweeps do not part.

    Parameters
    ----------
    zoom : xarray.Dataset
        A hysteresis in Ω (``ddlib.sweep.hysteresis``) with ``branch_end``, ``lambda_zz`` and
        ``sigma_zz``.
    """
    _check_ds("zoom", zoom, ("branch_end", "lambda_zz", "sigma_zz", "Omega"))
    lo, hi = _window(zoom)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        return float("nan"), float("nan")
    up, down = _loop(zoom, lo, hi, "Omega")
    with np.errstate(divide="ignore", invalid="ignore"):
        length = np.nanmax(down.lambda_zz.values / up.lambda_zz.values)
        sigma = np.nanmax(np.abs(up.sigma_zz.values) / np.abs(down.sigma_zz.values))
    return float(length), float(sigma)


def ising_fig7_row(ising: xr.Dataset | None) -> Row:
    """Fig. 7c, d: correlation length and Σ_zz of the two Ising branches in the window."""
    args = ("Fig. 7c, d", "in the bistable window the correlation length differs by up to one "
            "order of magnitude, Σ_zz by up to two", "max over the J_z𝒵 = −6 window of the "
            "ratio of the two branches (zoom of `fig5_7_ising`)", "10¹; 10²")
    if (missing := _absent("ising", ising, ("lambda_zz_zoom", "sigma_zz_zoom", "branch_end_zoom"),
                           args, "fig5_7_ising")) is not None:
        return missing
    z = ising[[v for v in ising.data_vars if v.endswith("_zoom")]]
    z = z.rename({v: v.removesuffix("_zoom") for v in z.data_vars} | {"Omega_zoom": "Omega"})
    length, sigma = ising_ratios(z)
    ok = round(np.log10(length)) == 1 and round(np.log10(sigma)) == 2
    return Row(*args, f"{length:.0f}; {sigma:.0f}",
               f"10^{np.log10(length):.1f}; 10^{np.log10(sigma):.1f}", _agree(ok),
               {"length_ratio": length, "sigma_ratio": sigma})


def fig1c_row(ds: xr.Dataset | None) -> Row:
    """Fig. 1c: the 2D (N = 8) bimodal Δ range against J (:func:`bimodal_width` at each J𝒵
    of ``fig1c_2d``), in Δ and as a fraction of the MF window's width at the same J𝒵
    (:func:`ddlib.meanfield.bistable_edges`)."""
    import json

    from ddlib import meanfield

    args = ("Fig. 1c", "in 2D (N = 8) the bimodal region shrinks gradually as J grows",
            "exact b_x on the periodic 2D cluster N = 8; width of the b_x > 0 range in Δ "
            "at each J𝒵, and that width over the MF window's (`fig1c_2d`)", "shrinks")
    if (missing := _absent("ds", ds, ("bx", "Delta", "JZ"), args, "fig1c_2d")) is not None:
        return missing
    bx = ds.bx.where(ds.converged.astype(bool)) if "converged" in ds else ds.bx
    jz = ds.JZ.values
    widths = np.array([bimodal_width(ds.Delta.values, bx.sel(JZ=j).values) for j in jz])
    omega = json.loads(ds.attrs.get("options", "{}")).get("Omega", 0.5)
    lower, upper = meanfield.bistable_edges(omega, jz)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where((widths > 0) & np.isfinite(upper - lower), widths / (upper - lower),
                        np.nan)
    k = int(np.argmax(widths))
    shrinks = k < len(jz) - 1 and widths[-1] < widths[k]
    numbers = {"width_max": float(widths[k]), "JZ_max": float(jz[k]),
               "width_end": float(widths[-1])}
    grown = next((i for i, w in enumerate(widths) if w > 0), 0)
    ours = (f"width {widths[grown]:.2f} at J𝒵 = {jz[grown]:g}, largest {widths[k]:.2f} at "
            f"J𝒵 = {jz[k]:g}" + ("" if k == len(jz) - 1 else
                                 f", {widths[-1]:.2f} at J𝒵 = {jz[-1]:g}"))
    if np.isfinite(frac).any():
        f = int(np.nanargmax(frac))
        numbers |= {"fraction_max": float(frac[f]), "fraction_max_JZ": float(jz[f]),
                    "fraction_end": float(frac[-1])}
        ours += (f"; fraction of the MF window {frac[f]:.2f} at J𝒵 = {jz[f]:g}, "
                 f"{frac[-1]:.2f} at J𝒵 = {jz[-1]:g}")
    if shrinks:
        verdict = "agrees"
    elif "fraction_max" in numbers and numbers["fraction_end"] < numbers["fraction_max"]:
        verdict = ("differs in part: in Δ the bimodal range keeps widening with J𝒵; "
                   "relative to the MF window it narrows")
    else:
        verdict = "differs: the bimodal range does not shrink with J𝒵"
    return Row(*args, ours, "—", verdict, numbers)


def _growth(ds: xr.Dataset) -> tuple[list[int], list[float], list[float]]:
    """N, the largest b_x and the bimodal width per N, read as chapter bimodality reads them
    (:func:`ddlib.paper.clusters.growth`)."""
    g = clusters.growth(ds)
    return ([int(n) for n in g.N.values], [float(v) for v in g.bx_max.values],
            [float(v) for v in g.width.values])


def _grows(values) -> bool:
    """Every step up, steps within rounding counting as flat (:func:`clusters.trend`)."""
    return clusters.trend(values) == "grows"


def appendix_a_row(fc: xr.Dataset | None, twod: xr.Dataset | None) -> Row:
    """App. A: max b_x and the width of the bimodal Δ range (:func:`bimodal_width`) against N,
    fully connected (J𝒵 = 6) and 2D (J𝒵 = 5)."""
    for name, ds in (("fc", fc), ("twod", twod)):
        _check_ds(name, ds, ("bx", "converged", "N", "Delta"))
    args = ("App. A, Fig. 4", "the width of the bimodal Δ range and the maximum of b_x grow "
            "from N = 8 to 9 to 10, in FC and in 2D", "exact b_x on the archived Δ grids; "
            "width = largest minus smallest Δ with b_x > 0 (`fig4_fc`, `fig4_2d`)", "both grow")
    if fc is None or twod is None:
        return _missing(*args, "fig4_fc" if fc is None else "fig4_2d")
    parts, numbers, width_grows, max_grows = [], {}, True, True
    for name, ds in (("FC", fc), ("2D", twod)):
        Ns, maxima, widths = _growth(ds)
        step = float(np.max(np.diff(ds.Delta.values)))
        parts.append(f"{name}: max b_x {' → '.join(f'{v:.3f}' for v in maxima)}; width "
                     f"{' → '.join(f'{v:.2f}' for v in widths)} (grid {step:.3g})")
        max_grows &= _grows(maxima)
        width_grows &= _grows(widths)
        numbers |= {f"{name}_max": maxima, f"{name}_width": widths}
    verdict = ("agrees" if max_grows and width_grows else
               "differs in part: the maximum of b_x grows, the width does not" if max_grows
               else "differs: the maximum of b_x does not grow")
    return Row(*args, "; ".join(parts), "—", verdict, numbers)


def appendix_a_trends(row: Row) -> str:
    r"""What :func:`appendix_a_row`'s numbers show against N, in words, for the prose beside
    its verdict: whether the maximum of :math:`b_x` (how deep the dip between the two peaks
    of :math:`P(M_x)` is) and the width of the bimodal Δ range (over which detunings a second
    peak exists at all) grow strictly with N, in FC and in 2D.

    Parameters
    ----------
    row : Row
        The App. A row (:func:`appendix_a_row`).

    Returns
    -------
    str
        Markdown; empty when the row's data are not archived.

    Examples
    --------
    >>> row = Row("App. A, Fig. 4", "", "", "", "", "", "", {
    ...     "FC_max": [0.2, 0.3], "FC_width": [0.9, 0.8],
    ...     "2D_max": [0.1, 0.2], "2D_width": [0.5, 0.5]})
    >>> print(appendix_a_trends(row))  # doctest: +NORMALIZE_WHITESPACE
    On these grids the maximum of $b_x$ (the depth of the dip between the two peaks) grows
    with $N$ in FC and in 2D; the width of the set of detunings with two peaks does not grow
    in FC or in 2D.
    """
    if not isinstance(row, Row) or not row.figure.startswith("App. A"):
        raise TypeError(f"row must be the App. A Row of appendix_a_row, got {row!r}")
    if row.verdict == NOT_ARCHIVED:
        return ""
    lattices = ("FC", "2D")
    what = {"max": "the maximum of $b_x$ (the depth of the dip between the two peaks)",
            "width": "the width of the set of detunings with two peaks"}
    clauses = []
    for key, name in what.items():
        grows = {lat: _grows(row.numbers[f"{lat}_{key}"]) for lat in lattices}
        if all(grows.values()):
            clauses.append(f"{name} grows with $N$ in FC and in 2D")
        elif not any(grows.values()):
            clauses.append(f"{name} does not grow in FC or in 2D")
        else:
            yes = next(lat for lat in lattices if grows[lat])
            no = next(lat for lat in lattices if not grows[lat])
            clauses.append(f"{name} grows with $N$ in {yes}, not in {no}")
    return "On these grids " + "; ".join(clauses) + "."


def appendix_d_row() -> Row:
    """App. D: the printed MFQF equations against the machine derivation
    (:func:`ddlib.paper.appendix_d.misprints`)."""
    from ddlib.paper import appendix_d

    found = {c: appendix_d.misprints(c) for c in ("xy", "ising")}
    groups = sorted({("D4 (first sum)" if m.part == "local" else
                      f"D14 (g_{m.equation.removeprefix('theta_')})" if m.part == "g" else
                      f"{m.equation} ({m.part})") for ms in found.values() for m in ms})
    n = {c: len(ms) for c, ms in found.items()}
    return Row("App. D", "the MFQF equations as printed (D4–D21)", "derived by the Pauli-string "
               "algebra and subtracted from the print", "no misprints stated",
               f"{n['xy']} (XY), {n['ising']} (Ising) differing terms: " + ", ".join(groups),
               "—", "differs: misprints in D4 and D14 (the derived equations are used)",
               {"xy": n["xy"], "ising": n["ising"]})


# ----------------------------------------------------------------------------- table

def rows(directory: str | Path | None = None) -> list[Row]:
    """Every row, from the archive in ``directory`` (default ``results/``; a missing entry
    gives its row the verdict :data:`NOT_ARCHIVED`), in the paper's order."""
    if directory is not None and not isinstance(directory, str | Path):
        raise TypeError(f"directory must be a path or None, got {type(directory).__name__}")
    if directory is not None and not Path(directory).is_dir():
        raise ValueError(f"directory must be an existing folder, got {str(directory)!r}")
    ds = {name: archived(name, directory) for name in
          ("mf_response", "fig1c_2d", "fig2_mpo", "fig3_mfqf", "fig4_fc", "fig4_2d",
           "fig5_7_ising", "window_vs_L", "window_vs_D", "cylinder_convergence",
           "cylinder_length")}
    return [fig1c_row(ds["fig1c_2d"]),
            mf_window_row(ds["mf_response"]),
            crossover_row(ds["fig2_mpo"]),
            mfqf_accuracy_row(ds["fig2_mpo"], ds["fig3_mfqf"]),
            correlations_1d_row(ds["fig2_mpo"]),
            windows_2d_3d_row(ds["window_vs_L"], ds["mf_response"]),
            windows_vs_D_row(ds["window_vs_D"], ds["mf_response"]),
            mpo_2d_row(ds["cylinder_convergence"], ds["fig3_mfqf"], ds["cylinder_length"]),
            sigma_2d_row(ds["fig3_mfqf"]),
            appendix_a_row(ds["fig4_fc"], ds["fig4_2d"]),
            ising_threshold_row(),
            ising_window_row(ds["fig5_7_ising"]),
            ising_fig7_row(ds["fig5_7_ising"]),
            translation_row(ds["cylinder_convergence"]),
            appendix_d_row()]


def to_html(entries: list[Row]) -> str:
    """:func:`table` as an HTML table for the chapter, names in backticks set as code."""
    import html
    import re

    text = table(entries).to_html(index=False, border=0, classes="reproduction")
    return re.sub(r"`([^`<>]+)`", lambda m: f"<code>{html.escape(m.group(1))}</code>", text)


def table(entries: list[Row]) -> pd.DataFrame:
    """The rows ``entries`` as a DataFrame, one column per text field of :class:`Row`."""
    if not isinstance(entries, list | tuple) or not all(isinstance(r, Row) for r in entries):
        raise TypeError("entries must be a list of Row")
    return pd.DataFrame([{"figure": r.figure, "the paper shows": r.shows,
                          "the book computes": r.computes, "paper": r.paper, "ours": r.ours,
                          "difference": r.difference, "verdict": r.verdict} for r in entries])
