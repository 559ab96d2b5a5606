"""Bad input of the book-support package ``ddlib.paper`` (figure style, profiles, reruns).

App. D (``ddlib.paper.appendix_d``) has its own tests in ``tests/test_appendix_d.py``; the
reruns' behaviour is tested in ``tests/test_book.py``. Here every public entry of
``ddlib.paper.plots``, ``ddlib.paper.profiles`` and ``ddlib.paper.rerun`` refuses a bad
argument, naming it, before any work (no figure drawn, no kernel started).
"""

import contextlib
import dataclasses
import json

import numpy as np
import pytest
import xarray as xr
from badinput import bad_input_test, case, fresh

from ddlib import Model, archive, lattice, meanfield
from ddlib.paper import plots, profiles, reproduction, rerun


@contextlib.contextmanager
def _axes():
    """Fresh axes, built when a case runs (not at import), their figure closed afterwards."""
    fig = plots.plt.figure()
    try:
        yield fig.add_subplot()
    finally:
        plots.plt.close(fig)


def _curve():
    """A small MF response curve, computed when the case runs (not at import)."""
    return contextlib.nullcontext(
        meanfield.response_curve(Model(Delta=0.0, Omega=0.5, J=4.0), 1, n=11))


BAD_INPUTS = [
    case(plots.subplots, 0, param="nrows"),
    case(plots.subplots, 1, 2.5, param="ncols"),
    case(plots.subplots, width=-1.0, param="width"),
    case(plots.panel_labels_above, None, param="axes"),
    case(plots.panel_labels_in_titles, [None], param="axes"),
    case(plots.draw_lattice, None, "ring", param="lattice"),
    case(plots.draw_lattice, "axes", lattice.chain(4), param="ax"),
    case(plots.mf_branches, "axes", None, param="ax"),
    case(plots.mf_branches, fresh(_axes), "curve", param="curve"),
    case(plots.mf_branches, fresh(_axes), fresh(_curve), values=[1.0, 2.0], param="values"),
    case(plots.bx_map, None, None, param="ax"),
    case(plots.bx_panels, None, label="FC", N=8, param="own"),
    case(plots.bx_panels, xr.Dataset(), label=8, N=8, param="label"),
    case(plots.bx_map, fresh(_axes), "map", param="ds"),
    case(profiles.settings, "no_such_chapter", param="chapter"),
    case(profiles.settings, "multistability", "slowest", param="profile"),
    case(rerun.chapter_path, "no_such_chapter", param="chapter"),
    case(rerun.chapter_path, 3, param="chapter"),
    case(rerun.parameters, "no_such_chapter", param="chapter"),
    case(rerun.check, "no_such_chapter", None, param="chapter"),
    case(rerun.check, "multistability", [("JZ", 6.0)], param="overrides"),
    case(rerun.execute, "no_such_chapter", param="chapter"),
    case(rerun.figures, {"cells": []}, ".", "fig", param="nb"),
    case(rerun.main, "multistability", param="argv"),
    case(reproduction.archived, "no_such_entry", param="name"),
    case(reproduction.archived, "fig4_fc", match={"Omega": 0.5, "Gamma": 1.0}, param="Gamma"),
    case(reproduction.archived, "fig4_fc", match=[("Omega", 0.5)], param="match"),
    case(reproduction.not_drawn, "no_such_entry", param="name"),
    case(reproduction.not_drawn, "fig4_fc", match={"Gamma": 1.0}, param="Gamma"),
    case(reproduction.archive_cost, "fig4_fc", param="names"),
    case(reproduction.core_hours, "fig4_fc", param="ds"),
    case(reproduction.core_hours, xr.Dataset(), param="ds"),
    case(reproduction.appendix_a_trends, "App. A", param="row"),
    case(reproduction.crossover_range, [1.0, 2.0], [0.1, 0.2], param="Delta"),
    case(reproduction.mfqf_error, [1.0, 2.0, 3.0], [0.1], [1.0, 2.0, 3.0], [0, 0, 0],
         param="Delta_ref"),
    case(reproduction.mf_window_row, "mf_response", param="mf"),
    case(reproduction.crossover_row, "fig2_mpo", param="mpo"),
    case(reproduction.mfqf_accuracy_row, None, "fig3_mfqf", param="mfqf"),
    case(reproduction.correlations_1d_row, 1.0, param="mpo"),
    case(reproduction.windows_2d_3d_row, [], None, param="windows"),
    case(reproduction.windows_vs_D_row, None, "mf_response", param="mf"),
    case(reproduction.sigma_2d_row, "fig3_mfqf", param="mfqf"),
    case(reproduction.ising_window_row, "fig5_7_ising", param="ising"),
    case(reproduction.ising_fig7_row, "fig5_7_ising", param="ising"),
    case(reproduction.ising_ratios, "zoom", param="zoom"),
    case(reproduction.fig1c_row, "fig1c_2d", param="ds"),
    case(reproduction.translation_row, "cylinder_convergence", param="cylinder"),
    case(reproduction.mpo_2d_row, "cylinder_convergence", None, param="cylinder"),
    case(reproduction.mpo_2d_row, None, None, xr.Dataset(), param="lengths"),
    case(reproduction.mfqf_2d_near, None, [1.0], [[0, 0, 0]], param="mfqf"),
    case(reproduction.mfqf_2d_near, xr.Dataset({"mu_x": ("Delta", [0.0]), "D": 2},
                                               coords={"Delta": [1.0]}),
         [1.0], [[0, 0]], param="mu"),
    case(reproduction.recipe, "fig9", param="name"),
    case(reproduction.tex_number, "1e-3", param="x"),
    case(reproduction.tex_number, 1e-3, digits=0, param="digits"),
    case(reproduction.tex_lattices, [(2,)], param="pairs"),
    case(reproduction.appendix_a_row, "fig4_fc", None, param="fc"),
    case(reproduction.rows, 3, param="directory"),
    case(reproduction.rows, "/no/such/folder", param="directory"),
    case(reproduction.table, ["a row"], param="entries"),
    case(reproduction.to_html, "a row", param="entries"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


# ---------------------------------------------------------------- the reproduction page

def _row(fn, *names):
    return fn(*[reproduction.archived(n) for n in names])


def test_reproduction_numbers_follow_the_archived_data():
    """The page's numbers are computed from the archive, not typed: a modified copy of an
    entry changes them, by what the modification implies."""
    mf = archive.load("mf_response")
    before = reproduction.mf_window_row(mf).numbers
    shifted = mf.assign(Delta=mf.Delta + 0.1)
    after = reproduction.mf_window_row(shifted).numbers
    assert after["lower"] == pytest.approx(before["lower"] + 0.1)
    assert after["upper"] == pytest.approx(before["upper"] + 0.1)

    fc, twod = archive.load("fig4_fc"), archive.load("fig4_2d")
    row = reproduction.appendix_a_row(fc, twod)
    boosted = fc.assign(bx=fc.bx.where(fc.N != 10, fc.bx * 2))
    changed = reproduction.appendix_a_row(boosted, twod)
    assert changed.numbers["FC_max"][2] == pytest.approx(2 * row.numbers["FC_max"][2])
    assert changed.ours != row.ours

    ising = archive.load("fig5_7_ising")
    ends = ising.branch_end.copy()
    ends.loc[{"JzZ": -6.0, "direction": "up"}] = 2.5
    moved = reproduction.ising_window_row(ising.assign(branch_end=ends))
    assert moved.numbers["upper"] == 2.5
    assert moved.verdict.startswith("differs")


def test_cost_is_cpu_time_from_the_provenance_without_the_machine(tmp_path):
    """A make of half an hour in two worker processes cost one core-hour; a make that resumed
    from cached points counts the points' summed time; the sentence names neither the machine
    nor the workers, and points to the archive page."""
    ds = archive.load("fig4_fc")
    options = json.loads(ds.attrs["options"])
    made = ds.assign_attrs(wall_time_s=1800.0, options=json.dumps(options | {"workers": 2}))
    assert reproduction.core_hours(made) == pytest.approx(1.0)
    resumed = made.assign_attrs(wall_time_s=2.0, points_wall_time_s=9000.0)
    assert reproduction.core_hours(resumed) == pytest.approx(2.5)
    archive.save(resumed, tmp_path / "fig4_fc.nc")
    text = reproduction.archive_cost(["fig4_fc", "fig4_2d"], tmp_path)
    assert text.startswith("`fig4_fc` took about 2.5 core-hours; `fig4_2d` has not been made")
    assert ds.attrs["machine"] not in text and "worker" not in text
    assert "{doc}`archive page <archive>`" in text
    archive.save(made.assign_attrs(wall_time_s=60.0), tmp_path / "fig4_fc.nc")
    assert "took about 2 core-minutes" in reproduction.archive_cost(["fig4_fc"], tmp_path)


def test_appendix_a_trends_follow_the_rows_numbers():
    """The prose beside App. A's verdict reads the row's numbers: the archived rows' trends,
    and a width that grows in FC only when the FC widths are made to grow."""
    fc, twod = archive.load("fig4_fc"), archive.load("fig4_2d")
    row = reproduction.appendix_a_row(fc, twod)
    text = reproduction.appendix_a_trends(row)
    for key, name in (("max", "maximum of $b_x$"), ("width", "width of the set")):
        grows = [bool(np.all(np.diff(row.numbers[f"{lat}_{key}"]) > 0)) for lat in ("FC", "2D")]
        clause = next(c for c in text.split(";") if name in c)
        assert ("does not grow" in clause) == (not any(grows))
    numbers = row.numbers | {"FC_width": [0.5, 0.6, 0.7], "2D_width": [0.5, 0.5, 0.4]}
    mixed = dataclasses.replace(row, numbers=numbers)
    assert "width of the set of detunings with two peaks grows with $N$ in FC, not in 2D" \
        in reproduction.appendix_a_trends(mixed)
    assert reproduction.appendix_a_trends(reproduction.appendix_a_row(None, twod)) == ""


def _cylinder(spread):
    """A cylinder_convergence-like dataset: 8 × 4 and 12 × 4, χ = 16, 32 (12 × 4 at 32 not
    computed), μ = (0.2, 0.4, -0.6)."""
    shape = (1, 2, 2)
    ds = xr.Dataset({f"mu_{a}": (("Delta", "case", "chi"), np.full(shape, v))
                     for a, v in zip("xyz", (0.2, 0.4, -0.6), strict=True)},
                    coords={"Delta": [1.75], "chi": [16, 32], "Lx": ("case", [8, 12]),
                            "Ly": ("case", [4, 4])})
    values = np.full(shape, spread)
    values[0, 1, 1] = np.nan
    return ds.assign(spread=(("Delta", "case", "chi"), values))


def test_translation_row_reads_the_longest_cylinder_at_its_largest_computed_chi():
    """App. C: the relative spread of the central μ is spread / max |μ_a| of the longest
    Lx × 4 cylinder at its last computed χ; the paper's 'order 1e-4' is met up to 5e-4."""
    row = reproduction.translation_row(_cylinder(6e-5))
    assert row.numbers == {"relative_spread": pytest.approx(1e-4), "Lx": 12, "chi": 16}
    assert row.verdict == "agrees"
    assert reproduction.translation_row(_cylinder(6e-4)).verdict.startswith("differs")
    assert reproduction.translation_row(None).verdict == reproduction.NOT_ARCHIVED


def test_translation_row_also_names_the_spread_at_the_papers_chi():
    """The largest spread over Δ decides the verdict; where a detuning reached the paper's
    χ = 400, the row also gives the spread there (the paper's statement is about χ = 400)."""
    ds = xr.Dataset({f"mu_{a}": (("Delta", "case", "chi"), np.full((2, 1, 2), v))
                     for a, v in zip("xyz", (0.2, 0.4, -0.5), strict=True)},
                    coords={"Delta": [1.5, 2.0], "chi": [128, 400], "Lx": ("case", [12]),
                            "Ly": ("case", [4])})
    ds["spread"] = (("Delta", "case", "chi"), np.array([[[2e-5, 5e-6]], [[4e-5, np.nan]]]))
    row = reproduction.translation_row(ds)
    assert row.numbers["relative_spread"] == pytest.approx(8e-5)  # Δ = 2 at χ = 128
    assert row.numbers["chi"] == 128
    assert row.numbers["relative_spread_at_paper_chi"] == pytest.approx(1e-5)
    assert "at the paper's χ = 400: 1.0e-05 (Δ = 1.5)" in row.ours
    plain = reproduction.translation_row(ds.sel(chi=[128]))
    assert "relative_spread_at_paper_chi" not in plain.numbers and "400" not in plain.ours
    third = xr.concat([ds, ds.sel(Delta=[1.5]).assign_coords(Delta=[1.75])], "Delta")
    third["spread"].loc[{"Delta": 1.75, "chi": 400}] = 2.4e-6
    row = reproduction.translation_row(third)  # each detuning at χ = 400 with its own spread
    assert "at the paper's χ = 400: 1.0e-05 (Δ = 1.5), 4.8e-06 (Δ = 1.75)" in row.ours
    assert row.numbers["relative_spread_at_paper_chi"] == pytest.approx(1e-5)


def test_mpo_2d_row_compares_the_cylinder_with_mfqf_on_both_sides():
    """Figs. 3a, 8: a cylinder whose μ_x is MFQF 2D's (up sweep) at Δ = 1, 1.75 and 3 agrees;
    moving its Δ = 3 point by 0.05 makes it differ; without a low-Δ point it cannot agree."""
    mfqf = archive.load("fig3_mfqf")
    up = mfqf.sel(D=2, direction="up")
    deltas = [1.0, 1.75, 3.0]
    ok = np.isfinite(up.mu_x.values)
    mu, mu_z = (np.interp(deltas, up.Delta.values[ok], up[v].values[ok]) for v in ("mu_x", "mu_z"))

    def cylinder(mu_x, ds=deltas):
        shape = (len(ds), 1, 1)
        return xr.Dataset({"mu_x": (("Delta", "case", "chi"), np.reshape(mu_x, shape)),
                           "mu_y": (("Delta", "case", "chi"), np.full(shape, 0.3)),
                           "mu_z": (("Delta", "case", "chi"),
                                    np.reshape(mu_z[-len(ds):], shape)),
                           "spread": (("Delta", "case", "chi"), np.full(shape, 1e-5))},
                          coords={"Delta": ds, "chi": [128], "Lx": ("case", [12]),
                                  "Ly": ("case", [4])})

    near = reproduction.mfqf_2d_near(mfqf, deltas, np.stack([mu, 0 * mu, mu_z], -1))
    assert near[:, 0] == pytest.approx(mu) and near[:, 2] == pytest.approx(mu_z)
    row = reproduction.mpo_2d_row(cylinder(mu + 1e-3), mfqf)
    assert row.verdict == "agrees"
    assert row.numbers["errors"][3.0] == pytest.approx(1e-3)
    moved = reproduction.mpo_2d_row(cylinder(mu + [0, 0, 0.05]), mfqf)
    assert moved.verdict.startswith("differs") and moved.numbers["max_outside"] == \
        pytest.approx(0.05)
    # a longer cylinder whose central four columns sit on MFQF at Δ = 3 decides there
    prof = np.full((1, 1, 1, 16, 3), np.nan)
    prof[0, 0, 0, :, 0] = mu[2] + 0.05 * np.cos(np.pi * np.arange(16))  # open-end wiggle
    prof[0, 0, 0, :, 2] = mu_z[2]
    longer = xr.Dataset({"mu_x": (("Delta", "case", "chi"), [[[mu[2] + 0.05]]]),
                         "mu_y": (("Delta", "case", "chi"), [[[0.3]]]),
                         "mu_z": (("Delta", "case", "chi"), [[[mu_z[2]]]]),
                         "spread": (("Delta", "case", "chi"), [[[1e-5]]]),
                         "profile": (("Delta", "case", "chi", "column", "component"), prof)},
                        coords={"Delta": [3.0], "chi": [64], "Lx": ("case", [16]),
                                "Ly": ("case", [4]), "component": ["x", "y", "z"]})
    bulk = reproduction.mpo_2d_row(cylinder(mu + [0, 0, 0.05]), mfqf, longer)
    assert bulk.verdict == "agrees" and bulk.numbers["bulk_errors"][3.0] < 1e-12
    assert "16 × 4" in bulk.ours
    one_side = reproduction.mpo_2d_row(cylinder(mu[1:], deltas[1:]), mfqf)
    assert "low-Δ side" in one_side.verdict
    assert reproduction.mpo_2d_row(None, mfqf).verdict == reproduction.NOT_ARCHIVED


def test_window_rows_follow_the_archived_branch_ends():
    """Fig. 3a's rows read ``window_vs_L``/``window_vs_D`` through ``maps.edges``: moving the
    3D branch ends moves the numbers, and a 3D window narrower than the 2D one (counting every
    stable state) turns the verdict to "differs"."""
    mf, byL = archive.load("mf_response"), archive.load("window_vs_L")
    row = reproduction.windows_2d_3d_row(byL, mf)
    assert row.numbers["lower_3d"] < row.numbers["decaying_3d"] <= row.numbers["upper_3d"]
    ends = byL.branch_end.copy()
    ends.loc[{"case": byL.D.values == 3, "direction": "down"}] = 2.0
    narrow = reproduction.windows_2d_3d_row(byL.assign(branch_end=ends), mf)
    assert narrow.numbers["lower_3d"] == 2.0
    assert narrow.ours != row.ours
    assert narrow.verdict.startswith("differs")

    byD = archive.load("window_vs_D")
    row = reproduction.windows_vs_D_row(byD, mf)
    ends = byD.branch_end.copy()
    ends.loc[{"run": byD.D.values == 5, "direction": "down"}] = 2.1  # 5D left of 4D's
    moved = reproduction.windows_vs_D_row(byD.assign(branch_end=ends), mf)
    assert moved.numbers["lower"][-1] == 2.1 != row.numbers["lower"][-1]
    assert moved.verdict.startswith("differs")


def test_archived_overlay_only_at_the_chapters_parameters(tmp_path):
    """A copy of ``fig4_fc`` made at another Ω is not drawn beside a computation at Ω = 0.5
    (and the caption sentence names both values); the same copy is drawn at its own Ω, and at
    Ω = 0.5 ± 1e-15 (float round-off is no mismatch); a missing entry is None and says so."""
    ds = archive.load("fig4_fc")
    options = json.loads(ds.attrs["options"])
    archive.save(ds.assign_attrs(options=json.dumps(options | {"Omega": 0.7})),
                 tmp_path / "fig4_fc.nc")
    at = {"Omega": 0.5, "JZ": options["JZ"]}
    assert reproduction.archived("fig4_fc", tmp_path, match=at) is None
    why = reproduction.not_drawn("fig4_fc", tmp_path, match=at)
    assert "$\\Omega = 0.7$" in why and why.endswith("this build runs $\\Omega = 0.5$.")
    moved = reproduction.archived("fig4_fc", tmp_path, match=at | {"Omega": 0.7 + 1e-15})
    assert moved is not None and moved.bx.equals(ds.bx)
    assert reproduction.not_drawn("fig4_fc", tmp_path, match={"Omega": 0.7}) is None
    assert reproduction.archived("fig4_fc", tmp_path) is not None      # no match: always
    assert reproduction.archived("fig4_fc", match=at) is not None      # the real entry
    assert reproduction.archived("fig4_fc", tmp_path, match={"N": [8, 9, 10]}) is not None
    assert reproduction.archived("fig4_fc", tmp_path, match={"N": [8, 9]}) is None
    assert reproduction.archived("fig4_2d", tmp_path, match=at) is None  # not made there
    assert "has not been made" in reproduction.not_drawn("fig4_2d", tmp_path, match=at)


def test_reproduction_rows_without_archive_say_not_yet_archived(tmp_path):
    rows = reproduction.rows(tmp_path)
    assert all(r.verdict == reproduction.NOT_ARCHIVED for r in rows
               if r.figure not in ("App. B", "App. D"))
    table = reproduction.table(rows)
    assert list(table["figure"]) == [r.figure for r in rows]


def test_mf_window_row_against_the_closed_form_folds():
    """The archived curve's unstable stretch ends at the folds that the cubic's discriminant
    gives (meanfield.bistable_range), to the curve's resolution."""
    w = meanfield.bistable_range(0.5, 4.0)
    row = _row(reproduction.mf_window_row, "mf_response")
    assert row.numbers["lower"] == pytest.approx(w.lower, abs=2e-3)
    assert row.numbers["upper"] == pytest.approx(w.upper, abs=2e-3)


def test_crossover_range_of_a_smooth_curve():
    """A curve with its maximum at Δ = 1.4 and minimum at Δ = 4.2, sampled coarsely."""
    D = np.linspace(0.5, 5.0, 10)
    mu = np.cos(np.pi * (D - 1.4) / 2.8)
    lo, hi, at_end = reproduction.crossover_range(D, mu)
    assert lo == pytest.approx(1.4, abs=0.05)
    assert hi == pytest.approx(4.2, abs=0.05)
    assert not at_end


def test_mfqf_error_is_read_where_both_curves_are_defined():
    D, err = reproduction.mfqf_error([1.0, 2.0, 9.0], [0.1, 0.2, 0.0], [0.0, 1.0, 3.0],
                                     [0.0, 0.1, 0.5])
    assert list(D) == [1.0, 2.0] and err == pytest.approx([0.0, 0.1])


def test_ising_threshold_row_is_the_closed_form():
    row = reproduction.ising_threshold_row()
    # a window narrower than the window finder resolves is not found: 1e-4 from the onset
    assert row.numbers["onset"] == pytest.approx(1.5 * np.sqrt(3), abs=1e-4)


def test_fig1c_row_reads_the_width_of_the_bimodal_range_per_coupling():
    """A synthetic map whose b_x > 0 band widens up to J𝒵 = 4 and narrows beyond: the row
    finds the peak and calls it shrinking; the mirror image (still widening) differs."""
    import xarray as xr

    D, jz = np.linspace(1.0, 6.0, 51), np.arange(0.0, 8.0)
    half = np.where(jz <= 4, 0.25 * jz, 1.0 - 0.2 * (jz - 4))      # half-width in Δ
    bx = (np.abs(D[:, None] - 3.5) < half[None, :]) * 0.2
    ds = xr.Dataset({"bx": (("Delta", "JZ"), bx)}, coords={"Delta": D, "JZ": jz})
    row = reproduction.fig1c_row(ds)
    assert row.verdict == "agrees"
    assert row.numbers["JZ_max"] == 4.0
    assert row.numbers["width_end"] < row.numbers["width_max"]
    widening = ds.assign(bx=(("Delta", "JZ"), bx[:, np.argsort(half, kind="stable")]))
    assert reproduction.fig1c_row(widening).verdict.startswith("differs")


def _bx(n_delta: int, N: int = 8) -> xr.Dataset:
    ds = xr.Dataset({"bx": (("Delta", "JZ"), np.random.default_rng(0).random((n_delta, 3)))},
                    coords={"Delta": np.linspace(1, 6, n_delta), "JZ": [0.0, 3.5, 7.0]})
    ds.attrs["options"] = json.dumps({"N": N})
    return ds


def test_bx_panels_draws_the_archive_only_on_another_grid():
    fig, drawn = plots.bx_panels(_bx(5), _bx(11, N=10), label="2D", N=8)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert drawn is not None and titles == ["2D $N=8$, this build", "2D $N=10$, archived"]
    fig, drawn = plots.bx_panels(_bx(5), _bx(5), label="2D", N=8)  # the same grid: once
    assert drawn is None and [ax.get_title() for ax in fig.axes if ax.get_title()] == \
        ["2D $N=8$, this build"]
    fig, drawn = plots.bx_panels(_bx(5), None, label="FC", N=8)
    assert drawn is None
    plots.plt.close("all")


def test_panel_labels_in_titles_prefix_each_title_and_leave_the_axes():
    fig, axes = plots.subplots(1, 2)
    axes[0].set_title("ring")
    other = axes[1].text(0.5, 0.5, "note", transform=axes[1].transAxes)
    plots.panel_labels_in_titles(axes)
    assert [ax.get_title() for ax in axes] == ["(a) ring", "(b)"]
    assert [t.get_text() for ax in axes for t in ax.texts] == ["note"] and other.axes is axes[1]
    plots.plt.close(fig)


def test_panel_labels_above_moves_the_labels_out_of_the_axes():
    """After panel_labels_above, each panel label sits above its axes (the region of the
    curves is free), still at the left edge; other texts stay where they were."""
    fig, axes = plots.subplots(1, 2)
    other = axes[0].text(0.5, 0.5, "note", transform=axes[0].transAxes)
    plots.panel_labels_above(axes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax, letter in zip(axes, "ab", strict=True):
        (label,) = [t for t in ax.texts if t.get_text() == f"({letter})"]
        box, frame = label.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.y0 >= frame.y1 - 1 and abs(box.x0 - frame.x0) < 0.05 * frame.width
    assert other.get_position() == (0.5, 0.5)
    plots.plt.close(fig)


def test_prose_about_an_entry_follows_its_recipe_not_a_typed_copy():
    """The chapters describe an archive entry from ``recipe`` (its options in ddlib.archive):
    a copy, so a chapter cannot edit the recipe; numbers in powers of ten as in print."""
    opt = reproduction.recipe("window_vs_L")
    assert opt == archive.ENTRIES["window_vs_L"].options
    opt["tol"] = 1.0
    assert archive.ENTRIES["window_vs_L"].options["tol"] != 1.0
    with pytest.raises(ValueError, match="name"):
        reproduction.recipe("fig9")
    assert [reproduction.tex_number(x) for x in (1e-3, 2e-3, 4e4, 0.5, 12)] == \
        ["10^{-3}", r"2\cdot10^{-3}", r"4\cdot10^{4}", "0.5", "12"]
    assert reproduction.tex_lattices([(1, 400), (2, 200), (3, 40)]) == "$400$, $200^2$, $40^3$"
