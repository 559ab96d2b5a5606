"""ddlib.paper.convergence: the choice of (N, χ) from a convergence table.

A synthetic table whose deviations from the reference are known by construction: μ and Σ_xx
approach their limits as 1/N + 1/χ², so the cheapest point within the tolerances can be found
by hand.
"""

from __future__ import annotations

import contextlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from badinput import bad_input_test, case, fresh  # noqa: E402

from ddlib.paper import convergence  # noqa: E402

N = np.array([16, 40, 80, 200])
CHI = np.array([16, 32, 64, 128])


def _table(scale=(1.0, 5.0)) -> xr.Dataset:
    """μ_x = 0.2 + a (1/N + 1/χ²) at Δ = 2 and a = scale[i]; Σ_xx = 1 + 10 (same)."""
    err = (1 / N[:, None] + 1 / CHI[None, :] ** 2)[None] * np.asarray(scale)[:, None, None]
    dims = ("Delta", "N", "chi")
    coords = {"Delta": [2.0, 1.0][:len(scale)], "N": N, "chi": CHI}
    return xr.Dataset({"mu_x": (dims, 0.2 + err), "mu_y": (dims, 0.3 + 0 * err),
                       "mu_z": (dims, -0.7 + 0 * err), "sigma_xx": (dims, 1 + 10 * err)},
                      coords=coords)


def test_entries_joined_along_the_detuning_keep_each_detunings_own_choice():
    # two entries (mpo_convergence and mpo_convergence_high) hold the study at different Δ:
    # joined, every Δ keeps its own reference, so its choice is the one its entry alone gives
    ds = _table(scale=(1.0, 5.0))
    high, low = ds.sel(Delta=[2.0]), ds.sel(Delta=[1.0])
    both = convergence.joined(high, low)
    assert both.Delta.values.tolist() == [1.0, 2.0]
    xr.testing.assert_identical(both, ds.sortby("Delta"))
    for part in (high, low):
        (d, alone), = convergence.chosen(part, mu_tol=2e-2, sigma_tol=1.0).items()
        assert convergence.chosen(both, mu_tol=2e-2, sigma_tol=1.0)[d] == alone


def test_deviations_are_measured_from_the_largest_point():
    dev = convergence.deviations(_table())
    ref_err = 1 / 200 + 1 / 128 ** 2
    expect = (1 / 40 + 1 / 32 ** 2) - ref_err
    assert float(dev.dmu.sel(Delta=2.0, N=40, chi=32)) == pytest.approx(expect)
    assert np.isnan(float(dev.dmu.sel(Delta=2.0, N=200, chi=128)))


def test_the_cheapest_point_within_the_tolerances_is_chosen():
    ds = _table()
    tol = 2e-2
    choice = convergence.chosen(ds, mu_tol=tol, sigma_tol=1.0)[2.0]
    dev = convergence.deviations(ds).sel(Delta=2.0)
    # by hand: every (N, χ) within tol, least N χ²
    ok = [(n * c * c, n, c) for n in N for c in CHI
          if float(dev.dmu.sel(N=n, chi=c)) < tol]
    assert (choice["N"], choice["chi"]) == min(ok)[1:]
    assert choice["dmu"] < tol
    # a stricter Σ tolerance can only move the choice to a costlier point
    strict = convergence.chosen(ds, mu_tol=tol, sigma_tol=0.05)[2.0]
    assert strict["N"] * strict["chi"] ** 2 >= choice["N"] * choice["chi"] ** 2


def test_a_point_for_every_detuning_is_at_least_as_costly_as_each_one():
    ds = _table(scale=(1.0, 5.0))
    each = convergence.chosen(ds, mu_tol=2e-2, sigma_tol=1.0)
    both = convergence.chosen_for_all(ds, mu_tol=2e-2, sigma_tol=1.0)
    assert both is not None
    assert all(both[0] * both[1] ** 2 >= c["N"] * c["chi"] ** 2 for c in each.values())
    assert convergence.chosen_for_all(ds, mu_tol=1e-9, sigma_tol=1e-9) is None


def test_the_detuning_with_slower_decaying_correlations_is_named_as_needing_the_longer_chain():
    # Δ = 1 approaches its limit five times more slowly (scale 5): it needs a longer chain
    ds = _table(scale=(1.0, 5.0)).assign(
        lambda_xx=(("Delta", "N", "chi"), np.broadcast_to([[[0.36]], [[0.23]]], (2, 4, 4))))
    each = convergence.chosen(ds, mu_tol=2e-2, sigma_tol=1.0)
    assert each[1.0]["N"] > each[2.0]["N"]
    text = convergence.length_needed(ds, mu_tol=2e-2, sigma_tol=1.0)
    first, second = text.split("; ")
    assert first.startswith(f"N = {each[1.0]['N']} at Δ = 1 ") and "0.23" in first
    assert second.startswith(f"N = {each[2.0]['N']} at Δ = 2 ") and "0.36" in second
    # nothing below the reference within a tolerance no point meets
    assert convergence.length_needed(ds, mu_tol=1e-12, sigma_tol=1.0).startswith(
        "no shorter chain than the reference")


def test_plot_draws_chi_and_n_convergence_with_one_line_style_per_detuning():
    ds = xr.concat([_table(), _table().assign_coords(Delta=[0.5, 1.5])], "Delta")
    fig, axes = plt.subplots(2, 2)
    convergence.plot(ds, axes)
    # every panel: one curve per Δ, plus the dotted tolerance
    assert all(len(ax.lines) == ds.sizes["Delta"] + 1 for ax in axes.flat)
    keys = {(ln.get_marker(), ln.get_linestyle(), ln.get_color())
            for ln in axes[0, 0].get_legend().get_lines()}
    assert len(keys) == ds.sizes["Delta"] == 4
    # left column against χ on the longest chain, right column against N at the largest χ
    # in increasing Δ: the first line is Δ = 0.5
    dev = convergence.deviations(ds).sel(Delta=0.5)
    assert axes[0, 0].lines[0].get_label() == r"$\Delta = 0.5$"
    np.testing.assert_allclose(axes[0, 0].lines[0].get_ydata(), dev.dmu.isel(N=-1))
    np.testing.assert_allclose(axes[1, 1].lines[0].get_ydata(), dev.dsigma.isel(chi=-1))
    plt.close(fig)


def _ladder(spread=1e-5) -> xr.Dataset:
    """A cylinder χ ladder, μ_x = 0.2 + 0.1 (16/χ)³ on 8 × 4 and 12 × 4 at Δ = 1.75; the last
    rung of 12 × 4 not computed yet (NaN)."""
    chi = CHI.astype(float)
    mu_x = np.stack([0.2 + 0.1 * (16 / chi) ** 3] * 2)[None]
    mu_x[0, 1, -1] = np.nan
    dims = ("Delta", "case", "chi")
    return xr.Dataset({"mu_x": (dims, mu_x), "mu_y": (dims, 0.4 + 0 * mu_x),
                       "mu_z": (dims, -0.6 + 0 * mu_x), "spread": (dims, spread + 0 * mu_x)},
                      coords={"Delta": [1.75], "chi": CHI, "Lx": ("case", [8, 12]),
                              "Ly": ("case", [4, 4])})


def test_cylinder_steps_are_the_moves_of_mu_between_successive_chi():
    conv = convergence.cylinder_steps(_ladder())
    steps = conv.step.sel(Delta=1.75).isel(case=0).values
    expect = 0.1 * np.abs(np.diff((16 / CHI) ** 3))
    assert np.isnan(steps[0]) and steps[1:] == pytest.approx(expect)
    assert np.isnan(conv.step.sel(Delta=1.75).isel(case=1).values[-1])
    assert float(conv.relative_spread.isel(Delta=0, case=0, chi=0)) == pytest.approx(1e-5 / 0.6)


def test_converged_chi_is_the_first_rung_within_the_tolerance_of_the_next():
    # steps: 0.0875, 0.0109, 0.00137 (16 → 32 → 64 → 128): none below 1e-3 on 12 × 4 (its
    # 128 missing); on 8 × 4 a tolerance of 2e-3 is first met by χ = 64 against 128
    got = convergence.cylinder_converged_chi(_ladder(), mu_tol=2e-3)
    assert got == {(1.75, 8, 4): 64, (1.75, 12, 4): None}
    assert convergence.cylinder_converged_chi(_ladder())[(1.75, 8, 4)] is None


def test_cylinder_points_are_the_longest_cylinder_at_its_largest_computed_chi():
    pts = convergence.cylinder_points(_ladder())
    assert (pts["Lx"], pts["Ly"]) == (12, 4) and list(pts["chi"]) == [64]
    assert pts["mu"][0] == pytest.approx([0.2 + 0.1 * (16 / 64) ** 3, 0.4, -0.6])
    last = convergence.cylinder_last_step(_ladder(), 1.75)
    assert (last["chi_a"], last["chi_b"]) == (32, 64)
    assert last["step"] == pytest.approx(0.1 * ((16 / 32) ** 3 - (16 / 64) ** 3))


def test_cylinder_report_says_whether_the_ladder_reached_the_tolerance():
    ds = _ladder().assign(**{k: (("Delta", "case", "chi"), np.zeros((1, 2, 4)))
                             for k in ("truncation_error", "drift", "t_at_chi", "wall_time")},
                          converged=(("Delta", "case", "chi"), np.ones((1, 2, 4), bool)))
    text = convergence.cylinder_report(ds, mu_tol=2e-3)
    assert text.count("| 8 × 4 |") == 4 and text.count("| 12 × 4 |") == 3  # 12 × 4's 128: NaN
    assert "8 × 4, Δ = 1.75: from χ = 64 to 128" in text and "χ = 64 is within 0.002" in text
    assert "12 × 4, Δ = 1.75: from χ = 32 to 64" in text and "no rung is yet within" in text
    assert "stationarity tolerance" not in text  # the recipe is not known


def test_cylinder_report_calls_a_step_below_the_stationarity_tolerance_a_floor():
    """Two rungs each stationary only to `tol` cannot be told apart below it: 8 × 4's last
    step (1.4e-3) is below a tolerance of 2e-3, 12 × 4's (1.1e-2) is not."""
    ds = _ladder().assign(**{k: (("Delta", "case", "chi"), np.zeros((1, 2, 4)))
                             for k in ("truncation_error", "drift", "t_at_chi", "wall_time")},
                          converged=(("Delta", "case", "chi"), np.ones((1, 2, 4), bool)))
    notes = convergence.cylinder_report(ds.assign_attrs(options='{"tol": 0.002}')).split("\n- ")
    (eight,) = [n for n in notes if n.startswith("8 × 4")]
    (twelve,) = [n for n in notes if n.startswith("12 × 4")]
    assert "below each rung's stationarity tolerance 0.002" in eight
    assert "stationarity tolerance" not in twelve


def test_plot_cylinder_draws_the_steps_and_spreads_against_chi():
    """One line per cylinder in each panel, against χ: (a) the steps of μ (known by
    construction), (b) the relative spread, plus the dotted tolerance."""
    fig, axes = plt.subplots(1, 2)
    convergence.plot_cylinder(_ladder(), axes)
    conv = convergence.cylinder_steps(_ladder()).sel(Delta=1.75)
    assert all(len(ax.lines) == 2 + 1 for ax in axes)
    for k in range(2):
        for ax, var in zip(axes, ("step", "relative_spread"), strict=True):
            np.testing.assert_array_equal(ax.lines[k].get_xdata(), CHI)
            np.testing.assert_allclose(ax.lines[k].get_ydata(), conv[var].isel(case=k))
    steps = axes[0].lines[0].get_ydata()
    assert np.isnan(steps[0]) and steps[1:] == pytest.approx(0.1 * np.abs(np.diff((16 / CHI)
                                                                                  ** 3)))
    assert axes[0].lines[0].get_label() == "8 × 4" and axes[0].lines[1].get_label() == "12 × 4"
    plt.close(fig)


def test_cylinder_lengths_are_compared_at_the_largest_common_chi():
    """8 × 4 has χ = 16 … 128, 12 × 4 only up to 64: the lengths meet at χ = 64; the report
    gives the change from 8 to 12 and the longest one's distance to a reference."""
    c = convergence.cylinder_lengths(_ladder())
    assert list(c["Lx"]) == [8, 12] and c["Ly"] == 4 and list(c["chi"]) == [64]
    assert c["mu"].shape == (1, 2, 3)
    assert c["mu"][0, :, 0] == pytest.approx([0.2 + 0.1 * (16 / 64) ** 3] * 2)
    ref = np.array([[0.25, 0.4, -0.62]])
    text = convergence.length_report(_ladder(), ref, label="MFQF 200²")
    assert "| Δ | χ | 8 × 4 | 12 × 4 | change 8 → 12 | MFQF 200² | 12 × 4 − MFQF 200² |" in text
    assert f"{0.2 + 0.1 / 64 - 0.25:+.3f}, +0.020" in text
    fig, axes = plt.subplots(1, 2)
    convergence.plot_lengths(_ladder(), axes, ref)
    assert all(len(ax.lines) == 2 for ax in axes)
    plt.close(fig)


def _profiled():
    """_ladder() with column profiles: μ_x = 0.2 + 0.05 cos(π x) on each column x."""
    ds = _ladder()
    prof = np.full((1, 2, 4, 12, 3), np.nan)
    for k, lx in enumerate((8, 12)):
        prof[0, k, :, :lx, 0] = 0.2 + 0.05 * np.cos(np.pi * np.arange(lx))
    return ds.assign(profile=(("Delta", "case", "chi", "column", "component"), prof)) \
        .assign_coords(component=["x", "y", "z"])


def test_plot_profiles_draws_each_length_centred_on_the_cylinders_middle():
    fig, ax = plt.subplots()
    convergence.plot_profiles(_profiled(), ax, 1.75, reference=0.2)
    lines = [ln for ln in ax.lines if ln.get_linestyle() != "--"]
    assert [len(ln.get_xdata()) for ln in lines] == [8, 12]
    assert lines[1].get_xdata()[0] == -5.5 and lines[1].get_ydata()[0] == pytest.approx(0.25)
    assert len(ax.lines) == 3  # and the reference
    plt.close(fig)
    # the central four columns of 12: two of each sign of the oscillation
    assert convergence.cylinder_centre(_profiled(), 4)[0, 0] == pytest.approx(0.2)
    assert convergence.cylinder_centre(_profiled(), 2)[0, 0] == pytest.approx(0.2)


@contextlib.contextmanager
def _axes(n: int | None = None):
    """Fresh axes (one, or a list of n), their figure closed afterwards."""
    fig = plt.figure()
    try:
        yield (fig.add_subplot() if n is None
               else [fig.add_subplot(1, n, i + 1) for i in range(n)])
    finally:
        plt.close(fig)


BAD_INPUTS = [
    case(convergence.cylinder_centre, _profiled(), 3, param="columns"),
    case(convergence.cylinder_centre, _profiled(), 0, param="columns"),
    case(convergence.plot_profiles, _profiled(), None, 1.75, param="ax"),
    case(convergence.plot_profiles, _profiled(), fresh(_axes), 2.0, param="Delta"),
    case(convergence.plot_profiles, _profiled(), fresh(_axes), 1.75, "w", param="component"),
    case(convergence.plot_profiles, _ladder(), fresh(_axes), 1.75, param="ds"),
    case(convergence.cylinder_lengths, _ladder().assign_coords(Ly=("case", [4, 6])),
         param="ds"),
    case(convergence.length_report, _ladder(), np.zeros((2, 3)), param="reference"),
    case(convergence.length_report, _ladder(), label="", param="label"),
    case(convergence.plot_lengths, _ladder(), [None], param="axes"),
    case(convergence.cylinder_steps, _table(), param="ds"),
    case(convergence.cylinder_converged_chi, _ladder(), mu_tol=-1.0, param="mu_tol"),
    case(convergence.plot_cylinder, _ladder(), [None], param="axes"),
    case(convergence.cylinder_last_step, _ladder(), 2.0, param="Delta"),
    case(convergence.cylinder_points, None, param="ds"),
    case(convergence.cylinder_report, _ladder(), mu_tol=0.0, param="mu_tol"),
    case(convergence.deviations, xr.Dataset(), param="ds"),
    case(convergence.joined, param="parts"),
    case(convergence.joined, _table(), None, param="parts[1]"),
    case(convergence.joined, _table(), _table(), param="parts"),  # Δ in both
    case(convergence.joined, _table().sel(Delta=[2.0]), _table().sel(Delta=[1.0], N=[16, 40]),
         param="parts[1]"),
    case(convergence.joined,  # the same grid at another coupling: not one study
         _table().sel(Delta=[2.0]).assign_attrs(options='{"JZ": 4.0, "Delta": [2.0]}'),
         _table().sel(Delta=[1.0]).assign_attrs(options='{"JZ": 6.0, "Delta": [1.0]}'),
         param="parts[1]"),
    case(convergence.length_needed, _table(), param="ds"),  # no λ_xx
    case(convergence.length_needed, _table().assign(lambda_xx=_table().mu_x), mu_tol=0.0,
         param="mu_tol"),
    case(convergence.chosen, _table(), mu_tol=-1.0, param="mu_tol"),
    case(convergence.chosen, _table(), sigma_tol="2%", param="sigma_tol"),
    case(convergence.chosen_for_all, _table(), mu_tol=0.0, param="mu_tol"),
    case(convergence.plot, _table(), None, param="axes"),
    case(convergence.plot, _table(), fresh(lambda: _axes(2)), param="axes"),  # needs 2 × 2
]

test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
