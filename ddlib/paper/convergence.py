r"""Convergence of the MPO chain in N and χ and of the cylinder in χ and L_x: the figures, the
choice of (N, χ) and the cylinder tables of chapter ``mpo``.

Reads the archive entries ``mpo_convergence`` and ``mpo_convergence_high``
(:mod:`ddlib.archive`, joined along Δ by :func:`joined`): central μ, λ_xx and Σ_xx of the open
chain over (Δ, N, χ). The reference of each Δ is its largest (N, χ); a point
is *within the book's tolerances* (:data:`MU_TOL`, :data:`SIGMA_TOL`: the book's choice; the
paper states no number, its MPO errors being "negligible at the scale of the plots") when

.. math::

    \max_a\big|\mu_a(N, \chi) - \mu_a^{\rm ref}\big| < 10^{-3},\qquad
    \big|\Sigma_{xx}(N, \chi)/\Sigma_{xx}^{\rm ref} - 1\big| < 2\,\%,

and the cheapest such point is the one with the least :math:`N\chi^2` (ties: the smaller N),
the order of the benchmark tables (``benchmarks/README.md``); a step costs between
:math:`N\chi^2` and :math:`N\chi^3` (below and above the χ³ regime of the gates).

The cylinder (entry ``cylinder_convergence``, over (Δ, Lx × Ly, χ)) has no reference beyond
the last rung of its χ ladder, so what is measured there is the step of the central μ between
successive χ and the spread of μ over the central columns (:func:`cylinder_steps`). Its
length (entry ``cylinder_length``, the same over several L_x) is compared at the largest χ
all lengths share (:func:`cylinder_lengths`), with μ along the cylinder column by column
(:func:`plot_profiles`) and over the central columns of the longest (:func:`cylinder_centre`).
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

__all__ = ["joined", "deviations", "chosen", "chosen_for_all", "length_needed", "plot",
           "cylinder_steps", "cylinder_converged_chi", "cylinder_points", "cylinder_last_step",
           "cylinder_report", "plot_cylinder", "cylinder_lengths", "length_report", "plot_lengths",
           "plot_profiles", "cylinder_centre"]

#: The book's tolerance on the central μ (max over a of |μ_a − μ_a^ref|; on the cylinder, of
#: the step between successive χ).
MU_TOL = 1e-3
#: The book's relative tolerance on Σ_xx.
SIGMA_TOL = 0.02
#: The paper's translation invariance of the cylinder's μ in y: relative errors of order
#: 1e-4 (App. C, at χ = :data:`CHI_PAPER`), the mark of the spread figure.
SPREAD_PAPER = 1e-4
#: The bond dimension of the paper's 12 × 4 cylinder (App. C; 600 at Δ = 1.75).
CHI_PAPER = 400
#: Marker and line style of the k-th detuning in the figures (cycled).
_STYLES = ["o-", "s--", "^:", "D-.", "v-", "P--", "X:"]


def joined(*parts: xr.Dataset) -> xr.Dataset:
    """The chain's convergence study over the detunings of several archive entries
    (``mpo_convergence``, ``mpo_convergence_high``), joined along Δ in increasing Δ.

    Parameters
    ----------
    *parts : xarray.Dataset
        At least one, each over (Δ, N, χ), all on the same N and χ grid, no Δ in two, and,
        where they record their recipe (``attrs["options"]``), run at the same Ω, J𝒵, δt,
        t_max and stationarity tolerance (every option but the detunings and the
        freshness check's point).

    Returns
    -------
    xarray.Dataset
        Over (Δ, N, χ); the attributes that all parts share (title, not provenance).
    """
    if not parts:
        raise ValueError("parts: give at least one mpo_convergence Dataset")
    for i, ds in enumerate(parts):
        if not isinstance(ds, xr.Dataset) or not {"mu_x", "Delta", "N", "chi"} <= set(ds.variables):
            raise TypeError(f"parts[{i}] must be an archived mpo_convergence Dataset, got "
                            f"{type(ds).__name__}")
        for dim in ("N", "chi"):
            if not np.array_equal(ds[dim], parts[0][dim]):
                raise ValueError(f"parts[{i}]: its {dim} grid {ds[dim].values.tolist()} differs "
                                 f"from parts[0]'s {parts[0][dim].values.tolist()}")
    first = _study_options(parts[0])
    for i, ds in enumerate(parts[1:], start=1):
        here = _study_options(ds)
        if here is not None and first is not None and here != first:
            differ = sorted(k for k in set(here) | set(first) if here.get(k) != first.get(k))
            what = ", ".join(f"{k} = {here.get(k)} vs {first.get(k)}" for k in differ)
            raise ValueError(f"parts[{i}]: run with other {', '.join(differ)} than parts[0] "
                             f"({what})")
    deltas = np.concatenate([ds.Delta.values for ds in parts])
    if len(np.unique(deltas)) < len(deltas):
        raise ValueError(f"parts: a detuning is in two parts (Δ = {sorted(deltas.tolist())})")
    return xr.concat(parts, "Delta", combine_attrs="drop_conflicts").sortby("Delta")


def _study_options(ds: xr.Dataset) -> dict | None:
    """The recipe of an archived study without what may differ between joined parts."""
    if "options" not in ds.attrs:
        return None
    opt = json.loads(ds.attrs["options"])
    return {k: v for k, v in opt.items()
            if k not in ("Delta", "check_Delta", "check_N", "check_chi", "N", "chi")}


def deviations(ds: xr.Dataset) -> xr.Dataset:
    """``dmu`` = max_a |μ_a − μ_a^ref| and ``dsigma`` = |Σ_xx/Σ_xx^ref − 1| over (Δ, N, χ),
    the reference being the largest (N, χ) of each Δ (NaN there)."""
    if not isinstance(ds, xr.Dataset) or "mu_x" not in ds:
        raise TypeError("ds must be the archived mpo_convergence Dataset")
    ref = ds.isel(N=-1, chi=-1)
    dmu = np.maximum(np.maximum(abs(ds.mu_x - ref.mu_x), abs(ds.mu_y - ref.mu_y)),
                     abs(ds.mu_z - ref.mu_z))
    dsigma = abs(ds.sigma_xx / ref.sigma_xx - 1)
    is_ref = (ds.N == ds.N[-1]) & (ds.chi == ds.chi[-1])
    return xr.Dataset({"dmu": dmu.where(~is_ref), "dsigma": dsigma.where(~is_ref)})


def _check_tols(mu_tol, sigma_tol) -> None:
    for name, v in (("mu_tol", mu_tol), ("sigma_tol", sigma_tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)):
            raise TypeError(f"{name} must be a positive number, got {v!r}")
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def _cheapest(ok: xr.DataArray) -> tuple[int, int] | None:
    cands = [(int(n) * int(c) ** 2, int(n), int(c)) for n in ok.N.values for c in ok.chi.values
             if bool(ok.sel(N=n, chi=c))]
    return min(cands)[1:] if cands else None


def chosen(ds: xr.Dataset, mu_tol: float = MU_TOL, sigma_tol: float = SIGMA_TOL) -> dict:
    """Per Δ: the cheapest (N, χ) (least N χ²) within ``mu_tol`` in the central μ and
    ``sigma_tol`` (relative) in Σ_xx of the reference, with its deviations, or None.

    Returns
    -------
    dict
        ``{Delta: {"N", "chi", "dmu", "dsigma", "ref_N", "ref_chi"} or None}``.
    """
    _check_tols(mu_tol, sigma_tol)
    dev = deviations(ds)
    out = {}
    for d in ds.Delta.values:
        e = dev.sel(Delta=d)
        best = _cheapest((e.dmu < mu_tol) & (e.dsigma < sigma_tol))
        out[float(d)] = None if best is None else {
            "N": best[0], "chi": best[1], "dmu": float(e.dmu.sel(N=best[0], chi=best[1])),
            "dsigma": float(e.dsigma.sel(N=best[0], chi=best[1])),
            "ref_N": int(ds.N[-1]), "ref_chi": int(ds.chi[-1])}
    return out


def chosen_for_all(ds: xr.Dataset, mu_tol: float = MU_TOL,
                   sigma_tol: float = SIGMA_TOL) -> tuple[int, int] | None:
    """The cheapest (N, χ) within the tolerances at every archived Δ, or None."""
    _check_tols(mu_tol, sigma_tol)
    dev = deviations(ds)
    ok = ((dev.dmu < mu_tol) & (dev.dsigma < sigma_tol)).all("Delta")
    return _cheapest(ok)


def length_needed(ds: xr.Dataset, mu_tol: float = MU_TOL,
                  sigma_tol: float = SIGMA_TOL) -> str:
    """The chain length each detuning needs (the N of :func:`chosen`) beside the decay rate
    λ_xx of its reference's correlations, longest first, as one clause of prose:
    "N = 80 at Δ = 0.5, 1 (λ_xx = 0.20, 0.23); N = 40 at Δ = 1.5 (λ_xx = 0.30)"; detunings
    where no point below the reference is within the tolerances are named as such."""
    if not isinstance(ds, xr.Dataset) or "lambda_xx" not in ds:
        raise TypeError("ds must be the archived mpo_convergence Dataset (with lambda_xx)")
    ref = ds.lambda_xx.isel(N=-1, chi=-1)
    groups: dict = {}
    for d, b in chosen(ds, mu_tol, sigma_tol).items():
        groups.setdefault(None if b is None else b["N"], []).append(float(d))
    parts = []
    for n in sorted(groups, key=lambda n: -np.inf if n is None else -n):
        deltas = sorted(groups[n])
        lam = ", ".join(f"{float(ref.sel(Delta=d)):.2f}" for d in deltas)
        where = ", ".join(f"{d:g}" for d in deltas)
        head = (f"N = {n} at" if n is not None else
                "no shorter chain than the reference within the tolerances at")
        parts.append(f"{head} Δ = {where} ($\\lambda_{{xx}}$ = {lam})")
    return "; ".join(parts)


def _check_axes(axes) -> None:
    if not (hasattr(axes, "__len__") and len(axes) == 2
            and all(hasattr(ax, "semilogy") for ax in axes)):
        raise TypeError(f"axes must be two matplotlib axes, got {axes!r}")


def _chi_axes(axes, chis, tols, names, xlabel=r"bond dimension $\chi$") -> None:
    """Both panels against χ (or ``xlabel``'s variable) on a log axis ticked at ``chis``, each
    tolerance dotted."""
    for ax, tol, name in zip(axes, tols, names, strict=True):
        ax.axhline(tol, color="k", ls=":", lw=1)
        ax.set(xscale="log", xlabel=xlabel, ylabel=name)
        ax.set_xticks(chis, [str(int(c)) for c in chis])
        ax.xaxis.set_minor_formatter("")


def plot(ds: xr.Dataset, axes) -> None:
    """The chain's convergence, one line (colour and marker) per Δ, in increasing Δ: the
    deviations from the reference of the central μ (top row, max_a |μ_a − μ_a^ref|) and of
    Σ_xx (bottom row, |Σ_xx/Σ_xx^ref − 1|), against χ on the longest chain (left column) and
    against N at the largest χ (right column); the tolerances dotted.

    Parameters
    ----------
    ds : xarray.Dataset
        The archived ``mpo_convergence`` entry, over (Δ, N, χ).
    axes : array of matplotlib Axes, shape (2, 2)
        E.g. from :func:`ddlib.paper.plots.subplots` (2, 2); their panel labels, if any, are
        moved above the axes, clear of the curves.
    """
    grid = np.asarray(axes, dtype=object)
    if grid.shape != (2, 2) or not all(hasattr(ax, "semilogy") for ax in grid.flat):
        raise TypeError(f"axes must be a 2 × 2 array of matplotlib axes, got {axes!r}")
    dev = deviations(ds)
    for a, d in enumerate(np.sort(ds.Delta.values)):
        e = dev.sel(Delta=d)
        kw = {"color": f"C{a % 10}", "ms": 3.5, "lw": 1.2}
        style = _STYLES[a % len(_STYLES)]
        for row, var in enumerate(("dmu", "dsigma")):
            grid[row, 0].semilogy(ds.chi, e[var].isel(N=-1), style,
                                  label=rf"$\Delta = {float(d):g}$", **kw)
            grid[row, 1].semilogy(ds.N, e[var].isel(chi=-1), style, **kw)
    names = (r"$\max_a|\mu_a - \mu_a^{\rm ref}|$",
             r"$|\Sigma_{xx}/\Sigma_{xx}^{\rm ref} - 1|$")
    _chi_axes(grid[:, 0], ds.chi.values, (MU_TOL, SIGMA_TOL), names)
    _chi_axes(grid[:, 1], ds.N.values, (MU_TOL, SIGMA_TOL), names, r"chain length $N$")
    for row in range(2):
        grid[row, 0].set_title(rf"$N = {int(ds.N[-1])}$", fontsize=8)
        grid[row, 1].set_title(rf"$\chi = {int(ds.chi[-1])}$", fontsize=8)
    grid[0, 0].legend(fontsize=7)
    # the deviations are largest at the smallest χ and N: the top-left corners are taken
    from ddlib.paper.plots import panel_labels_above

    panel_labels_above(list(grid.flat))


def _check_cylinder(ds) -> None:
    if not isinstance(ds, xr.Dataset) or not {"mu_x", "spread", "Lx"} <= set(ds.variables):
        raise TypeError("ds must be the archived cylinder_convergence Dataset")


def cylinder_steps(ds: xr.Dataset) -> xr.Dataset:
    r"""The cylinder's convergence in χ, per (Δ, case) and χ:

    ``step`` :math:`= \max_a|\mu_a(\chi_k) - \mu_a(\chi_{k-1})|`, how far the central μ
    moved from the previous rung (NaN at the first χ); ``relative_spread``, the spread of μ over
    the central column(s) relative to :math:`\max_a|\mu_a|` (App. C's translation check).
    Rungs not yet computed are NaN."""
    _check_cylinder(ds)
    mu = xr.concat([ds.mu_x, ds.mu_y, ds.mu_z], "a")
    step = abs(mu - mu.shift(chi=1)).max("a", skipna=False)
    return xr.Dataset({"step": step, "relative_spread": ds.spread / abs(mu).max("a")})


def cylinder_converged_chi(ds: xr.Dataset, mu_tol: float = MU_TOL) -> dict:
    """Per (Δ, Lx, Ly): the smallest χ of the ladder whose central μ is within ``mu_tol`` of
    the next rung's (the step to it is below ``mu_tol``), or None when no computed pair of
    rungs is that close yet.

    Returns
    -------
    dict
        ``{(Delta, Lx, Ly): chi or None}``.
    """
    _check_tols(mu_tol, SIGMA_TOL)
    steps = cylinder_steps(ds).step
    out = {}
    for d in ds.Delta.values:
        for k in range(ds.sizes["case"]):
            s = steps.sel(Delta=d).isel(case=k).values
            ok = [j - 1 for j in range(1, s.size) if np.isfinite(s[j]) and s[j] < mu_tol]
            out[(float(d), int(ds.Lx[k]), int(ds.Ly[k]))] = \
                int(ds.chi[ok[0]]) if ok else None
    return out


def _longest(ds: xr.Dataset) -> int:
    return max(range(ds.sizes["case"]), key=lambda k: (int(ds.Lx[k]), int(ds.Ly[k])))


def cylinder_points(ds: xr.Dataset) -> dict:
    """The MPO points of Figs. 3a and 8: the longest cylinder's central μ at each Δ, at the
    largest χ computed there (Δ without any computed χ are left out).

    Returns
    -------
    dict
        ``{"Lx", "Ly": int, "Delta": ndarray (n,), "chi": ndarray of int (n,),
        "mu": ndarray (n, 3), "spread": ndarray (n,)}``.
    """
    _check_cylinder(ds)
    one = ds.isel(case=_longest(ds))
    rows = []
    for d in one.Delta.values:
        done = np.flatnonzero(np.isfinite(one.mu_x.sel(Delta=d).values))
        if done.size:
            p = one.sel(Delta=d).isel(chi=int(done[-1]))
            rows.append((float(d), int(p.chi), [float(p[f"mu_{a}"]) for a in "xyz"],
                         float(p.spread)))
    return {"Lx": int(one.Lx), "Ly": int(one.Ly),
            "Delta": np.array([r[0] for r in rows]), "chi": np.array([r[1] for r in rows]),
            "mu": np.array([r[2] for r in rows]).reshape(-1, 3),
            "spread": np.array([r[3] for r in rows])}


def cylinder_last_step(ds: xr.Dataset, Delta: float) -> dict:
    """The last computed rung of the longest cylinder's ladder at ``Delta`` against the one
    before: ``{"chi_a", "chi_b", "step", "spread_a", "spread_b"}`` (the step of the central μ
    and the absolute spreads over the central column(s)); ValueError when fewer than two rungs
    are computed there."""
    _check_cylinder(ds)
    if not np.isclose(ds.Delta, Delta).any():
        raise ValueError(f"Delta: {Delta!r} is not among the entry's {ds.Delta.values}")
    one = ds.isel(case=_longest(ds)).sel(Delta=Delta, method="nearest")
    step = cylinder_steps(ds).step.isel(case=_longest(ds)).sel(Delta=Delta, method="nearest")
    done = np.flatnonzero(np.isfinite(step.values))
    if not done.size:
        raise ValueError(f"Delta: fewer than two rungs computed at Δ = {Delta:g}")
    j = int(done[-1])
    return {"chi_a": int(ds.chi[j - 1]), "chi_b": int(ds.chi[j]), "step": float(step[j]),
            "spread_a": float(one.spread[j - 1]), "spread_b": float(one.spread[j])}


def cylinder_report(ds: xr.Dataset, mu_tol: float = MU_TOL) -> str:
    """Markdown for chapter ``mpo``: one table row per computed rung (central μ, step from the
    previous χ, relative spread, discarded weight, stationarity, time and wall time at χ),
    then per (Δ, cylinder) what the last step shows against ``mu_tol`` and the paper's
    :data:`SPREAD_PAPER` spread; a last step below the recipe's stationarity tolerance
    (``options["tol"]``) is the floor of the measurement, and the note says so. The cost of a
    rung is its wall time in core-hours: each point of a ladder runs in one process with one
    BLAS thread."""
    _check_tols(mu_tol, SIGMA_TOL)
    steps, first = cylinder_steps(ds), cylinder_converged_chi(ds, mu_tol)
    tol = json.loads(ds.attrs.get("options", "{}")).get("tol")  # each rung's stationarity
    rows = ["| cylinder | Δ | χ | central μ | step from the previous χ | relative spread | "
            "discarded weight | stationary (\\|dμ/dt\\|) | time at χ | cost (core-hours) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for d in ds.Delta.values:
        for k in range(ds.sizes["case"]):
            one, st = ds.sel(Delta=d).isel(case=k), steps.sel(Delta=d).isel(case=k)
            size = f"{int(one.Lx)} × {int(one.Ly)}"
            for j, chi in enumerate(ds.chi.values):
                if not np.isfinite(one.mu_x[j]):
                    continue
                mu = ", ".join(f"{float(one[f'mu_{a}'][j]):.5f}" for a in "xyz")
                step = "—" if not np.isfinite(st.step[j]) else f"{float(st.step[j]):.1e}"
                rows.append(
                    f"| {size} | {d:g} | {int(chi)} | ({mu}) | {step} | "
                    f"{float(st.relative_spread[j]):.1e} | {float(one.truncation_error[j]):.1e} "
                    f"| {'yes' if bool(one.converged[j]) else 'no'} ({float(one.drift[j]):.0e}) "
                    f"| {float(one.t_at_chi[j]):g} | {float(one.wall_time[j]) / 3600:.2g} |")
            done = np.flatnonzero(np.isfinite(st.step.values))
            if not done.size:
                continue
            j, chi_c = int(done[-1]), first[(float(d), int(one.Lx), int(one.Ly))]
            notes.append(
                f"- {size}, Δ = {d:g}: from χ = {int(ds.chi[j - 1])} to {int(ds.chi[j])} the "
                f"central μ moves by {float(st.step[j]):.1e}"
                + (f" (below each rung's stationarity tolerance {tol:g}: the floor of this "
                   "measurement)" if tol is not None and float(st.step[j]) < tol else "") + "; "
                + (f"χ = {chi_c} is within {mu_tol:g} of the next rung. " if chi_c is not None
                   else f"no rung is yet within {mu_tol:g} of the next: the ladder must go "
                   "further to show that accuracy. ")
                + f"The relative spread at χ = {int(ds.chi[j])} is "
                f"{float(st.relative_spread[j]):.1e} (the paper: of order "
                f"$10^{{{round(np.log10(SPREAD_PAPER))}}}$ at χ = {CHI_PAPER}).")
    return "\n".join(rows) + "\n\n" + "\n".join(notes)


def plot_cylinder(ds: xr.Dataset, axes) -> None:
    """(a) the step of the central μ between successive χ and (b) the relative spread over the
    central column(s), against χ, one marker per Δ and one colour per Lx × Ly (per Δ when
    there is one cylinder); dotted: the book's tolerance :data:`MU_TOL` in μ and the paper's
    spread :data:`SPREAD_PAPER` (App. C)."""
    _check_cylinder(ds)
    _check_axes(axes)
    conv = cylinder_steps(ds)
    for a, d in enumerate(ds.Delta.values):
        for k in range(ds.sizes["case"]):
            label = (f"{int(ds.Lx[k])} × {int(ds.Ly[k])}"
                     + (rf", $\Delta = {float(d):g}$" if ds.sizes["Delta"] > 1 else ""))
            color = f"C{a % 10}" if ds.sizes["case"] == 1 else f"C{k % 10}"
            for ax, var in zip(axes, ("step", "relative_spread"), strict=True):
                ax.semilogy(ds.chi, conv[var].sel(Delta=d).isel(case=k), _STYLES[a % len(_STYLES)],
                            color=color, ms=3.5, lw=1.2, label=label if var == "step" else None)
    _chi_axes(axes, ds.chi.values, (MU_TOL, SPREAD_PAPER), (
        r"$\max_a|\mu_a(\chi) - \mu_a(\chi_{\rm previous})|$",
        r"relative spread of $\mu$ (centre)"))
    axes[0].legend(fontsize=7)
    from ddlib.paper.plots import panel_labels_above

    panel_labels_above(axes)


def cylinder_lengths(ds: xr.Dataset) -> dict:
    """The central μ against the cylinder's length (entry ``cylinder_length``): per Δ, every
    length's μ at the largest χ computed for all of them there (one χ per Δ, so that the
    lengths are compared at equal bond dimension; Δ where some length has no rung are left
    out). All cases must share one circumference L_y.

    Returns
    -------
    dict
        ``{"Ly": int, "Lx": ndarray of int (m,), "Delta": ndarray (n,), "chi": ndarray of int
        (n,), "mu": ndarray (n, m, 3)}``, lengths in increasing order.
    """
    _check_cylinder(ds)
    if np.unique(ds.Ly.values).size != 1:
        raise ValueError(f"ds: the cylinders must share one circumference, got L_y = "
                         f"{sorted(set(int(v) for v in ds.Ly.values))}")
    order = np.argsort(ds.Lx.values, kind="stable")
    rows = []
    for d in ds.Delta.values:
        one = ds.sel(Delta=d).isel(case=order)
        done = np.flatnonzero(np.isfinite(one.mu_x.values).all(axis=0))
        if done.size:
            p = one.isel(chi=int(done[-1]))
            rows.append((float(d), int(p.chi),
                         np.stack([p[f"mu_{a}"].values for a in "xyz"], axis=-1)))
    return {"Ly": int(ds.Ly[0]), "Lx": ds.Lx.values[order].astype(int),
            "Delta": np.array([r[0] for r in rows]), "chi": np.array([r[1] for r in rows]),
            "mu": np.array([r[2] for r in rows]).reshape(-1, order.size, 3)}


def _check_reference(reference, deltas) -> np.ndarray | None:
    if reference is None:
        return None
    ref = np.asarray(reference, dtype=float) if not isinstance(reference, str) else None
    if ref is None or ref.shape != (deltas.size, 3):
        raise ValueError(f"reference must be an array of shape ({deltas.size}, 3) (μ at each "
                         f"Δ of the entry), got {reference!r}")
    return ref


def length_report(ds: xr.Dataset, reference=None, label: str = "MFQF") -> str:
    """Markdown for chapter ``mpo``: a table of the central μ_x and μ_z of each cylinder
    length per Δ (:func:`cylinder_lengths`), the change between the two longest, and
    ``reference`` (an array (n, 3) of μ at those Δ, e.g. MFQF on the infinite lattice's
    stand-in, titled ``label``) with the longest cylinder's distance to it."""
    c = cylinder_lengths(ds)
    ref = _check_reference(reference, c["Delta"])
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string, got {label!r}")
    head = (["Δ", "χ"] + [f"{n} × {c['Ly']}" for n in c["Lx"]]
            + [f"change {c['Lx'][-2]} → {c['Lx'][-1]}"] * (c["Lx"].size > 1)
            + ([label, f"{c['Lx'][-1]} × {c['Ly']} − {label}"] if ref is not None else []))
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, d in enumerate(c["Delta"]):
        mu = c["mu"][i]
        cells = [f"{d:g}", f"{int(c['chi'][i])}"] + [
            f"{m[0]:.4f}, {m[2]:.4f}" for m in mu]
        if c["Lx"].size > 1:
            cells.append(", ".join(f"{mu[-1, a] - mu[-2, a]:+.1e}" for a in (0, 2)))
        if ref is not None:
            cells += [f"{ref[i, 0]:.4f}, {ref[i, 2]:.4f}",
                      ", ".join(f"{mu[-1, a] - ref[i, a]:+.3f}" for a in (0, 2))]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n\n(entries: μ_x, μ_z)"


def plot_lengths(ds: xr.Dataset, axes, reference=None, label: str = "MFQF") -> None:
    """(a) μ_x and (b) μ_z of the cylinder's central column(s) against 1/L_x, one marker and
    colour per Δ (:func:`cylinder_lengths`); with ``reference`` (an array (n, 3) of μ at
    those Δ, named ``label``) their distance from it, zero dotted."""
    _check_axes(axes)
    c = cylinder_lengths(ds)
    ref = _check_reference(reference, c["Delta"])
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string, got {label!r}")
    x = 1.0 / c["Lx"]
    for i, d in enumerate(c["Delta"]):
        for ax, a in zip(axes, (0, 2), strict=True):
            y = c["mu"][i, :, a] - (0.0 if ref is None else ref[i, a])
            ax.plot(x, y, "os^Dv"[i % 5] + "-", color=f"C{i % 10}", ms=4, lw=1,
                    label=rf"$\Delta = {d:g}$, $\chi = {int(c['chi'][i])}$")
    for ax, a in zip(axes, "xz", strict=True):
        if ref is not None:
            ax.axhline(0.0, color="k", ls=":", lw=1)
        ax.set(xlabel=r"$1/L_x$", xlim=(0, 1.1 * x.max()),
               ylabel=rf"central $\mu_{a}$" + ("" if ref is None else f" − {label}"))
        ax.set_xticks([0, *x], ["0", *(f"1/{n}" for n in c["Lx"])])
    axes[0].legend(fontsize=7)


def plot_profiles(ds: xr.Dataset, ax, Delta: float, component: str = "x", reference=None,
                  label: str = "MFQF", legend: bool = True) -> None:
    """μ_a averaged over each column of the cylinder against the column's position from
    the centre, one line per length, at ``Delta`` and the χ of :func:`cylinder_lengths`
    there (entry ``cylinder_length``, variable ``profile``); dashed: ``reference`` (a number,
    e.g. MFQF's μ_a), labelled ``label``; ``legend=False`` leaves the legend to the
    caller (e.g. one for a row of panels)."""
    c = cylinder_lengths(ds)
    if "profile" not in ds:
        raise ValueError("ds has no column profile (made before profiles were recorded)")
    if not hasattr(ax, "plot"):
        raise TypeError(f"ax must be a matplotlib Axes, got {ax!r}")
    if component not in ("x", "y", "z"):
        raise ValueError(f"component must be 'x', 'y' or 'z', got {component!r}")
    hit = np.flatnonzero(np.isclose(c["Delta"], Delta)) if isinstance(Delta, int | float) \
        else np.array([])
    if not hit.size:
        raise ValueError(f"Delta: {Delta!r} is not among the detunings with every length "
                         f"computed, {c['Delta']}")
    i = int(hit[0])
    chi = int(c["chi"][i])
    one = ds.profile.sel(Delta=c["Delta"][i], chi=chi, component=component)
    for k in np.argsort(ds.Lx.values, kind="stable"):
        lx = int(ds.Lx[k])
        ax.plot(np.arange(lx) - (lx - 1) / 2, one.isel(case=int(k)).values[:lx], "o-", ms=3,
                lw=1, color=f"C{int(np.searchsorted(c['Lx'], lx)) % 10}",
                label=f"${lx}\\times{c['Ly']}$")
    if reference is not None:
        if isinstance(reference, bool) or not isinstance(reference, int | float | np.floating) \
                or not np.isfinite(reference):
            raise ValueError(f"reference must be a finite number, got {reference!r}")
        ax.axhline(float(reference), color="k", ls="--", lw=1, label=label)
    ax.set(xlabel=r"column $x - (L_x - 1)/2$", ylabel=rf"$\mu_{component}$ of the column")
    ax.set_title(rf"$\Delta = {float(c['Delta'][i]):g}$, $\chi = {chi}$", fontsize=9)
    if legend:
        ax.legend(fontsize=7)


def cylinder_centre(ds: xr.Dataset, columns: int = 4) -> np.ndarray:
    """μ averaged over the central ``columns`` columns of the longest cylinder, per Δ of
    :func:`cylinder_lengths` and at its χ: a bulk estimate less sensitive than the central
    column(s) to where the oscillations from the two open ends meet.

    Returns
    -------
    numpy.ndarray, shape (n, 3)
    """
    if isinstance(columns, bool) or not isinstance(columns, int | np.integer) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    c = cylinder_lengths(ds)
    if "profile" not in ds:
        raise ValueError("ds has no column profile (made before profiles were recorded)")
    lx = int(c["Lx"][-1])
    if columns > lx or (lx - columns) % 2:
        raise ValueError(f"columns must be at most L_x = {lx} and of its parity, got {columns}")
    k = int(np.flatnonzero(ds.Lx.values == lx)[0])
    first = (lx - columns) // 2
    return np.array([ds.profile.sel(Delta=d, chi=int(chi)).isel(case=k).values[
        first:first + columns].mean(0) for d, chi in zip(c["Delta"], c["chi"], strict=True)])
