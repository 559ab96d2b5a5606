"""The read-outs of the exact-cluster results (ddlib.paper.clusters)."""

import numpy as np
import pytest
import xarray as xr
from badinput import bad_input_test, case

from ddlib import exact, lattice
from ddlib.paper import clusters, reproduction


def _entry(bx, peak1, peak2, converged=None, Delta=(2.0, 2.5, 3.0, 3.5)):
    """A per-N entry over (N, Delta) with P(M_x) on k = 0 .. max N, as the archive stores it."""
    bx = np.asarray(bx, float)
    Ns = [4, 6][: bx.shape[0]]
    px = np.arange(bx.size * 7, dtype=float).reshape(*bx.shape, 7)
    conv = np.ones(bx.shape, bool) if converged is None else np.asarray(converged)
    return xr.Dataset({"bx": (("N", "Delta"), bx), "converged": (("N", "Delta"), conv),
                       "peak1": (("N", "Delta"), np.asarray(peak1, float)),
                       "peak2": (("N", "Delta"), np.asarray(peak2, float)),
                       "px": (("N", "Delta", "k"), px)},
                      coords={"N": Ns, "Delta": list(Delta),
                              "m": (("N", "k"), -1 + 2 * np.arange(7)[None] / np.c_[Ns])})


def test_axis_is_the_profiles_linspace():
    np.testing.assert_allclose(clusters.axis((2.5, 5.0, 11)), np.linspace(2.5, 5.0, 11))
    assert clusters.axis([1, 1, 1.0]).tolist() == [1.0]


def test_most_bimodal_picks_the_largest_converged_bx_and_orders_the_peaks():
    """N = 4: the largest b_x (0.9) did not converge, so Δ* is that of 0.5, with the peaks
    given in either order; N = 6: b_x = 0 on the whole grid, so no Δ*."""
    ds = _entry(bx=[[0.1, 0.9, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]],
                peak1=[[0.4, 0.3, -0.2, -0.5], [0.4, 0.2, 0.0, -0.3]],
                peak2=[[-0.6, -0.5, 0.6, np.nan], [np.nan] * 4],
                converged=[[True, False, True, True], [True] * 4])
    best = clusters.most_bimodal(ds)
    assert best.Delta_star.sel(N=4) == 3.0 and best.bx.sel(N=4) == 0.5
    assert (float(best.peak_lower.sel(N=4)), float(best.peak_upper.sel(N=4))) == (-0.2, 0.6)
    np.testing.assert_array_equal(best.px.sel(N=4), ds.px.sel(N=4, Delta=3.0))
    assert best.m.dims == ("N", "k")
    assert np.isnan(best.Delta_star.sel(N=6)) and best.bx.sel(N=6) == 0.0
    assert np.isnan(best.peak_lower.sel(N=6)) and np.isnan(best.px.sel(N=6)).all()


def test_bimodal_width_spans_the_outermost_bimodal_points_and_skips_nan():
    assert clusters.bimodal_width([1, 2, 3, 4], [0, 0.1, 0.2, 0]) == 1.0
    assert clusters.bimodal_width([1, 2, 3], [0, 0, 0]) == 0.0
    # a non-converged point (NaN) is neither bimodal nor an edge
    assert clusters.bimodal_width([1, 2, 3, 4], [np.nan, 0.1, 0.2, np.nan]) == 1.0
    # a unimodal gap inside the range does not shorten it (the range is edge to edge)
    assert clusters.bimodal_width([1, 2, 3, 4, 5], [0.1, 0, 0, 0.2, 0]) == 3.0
    # the re-export is the same function
    assert reproduction.bimodal_width is clusters.bimodal_width


def test_growth_reads_max_and_width_over_converged_points():
    """b_x > 0 on Δ = 2.5 .. 3.5 for N = 6 (width 1), but the point at 3.5 did not converge
    (width 0.5); N = 4 is bimodal at one detuning only (width 0)."""
    ds = _entry(bx=[[0.0, 0.2, 0.0, 0.0], [0.0, 0.3, 0.4, 0.8]],
                peak1=np.zeros((2, 4)), peak2=np.zeros((2, 4)),
                converged=[[True] * 4, [True, True, True, False]])
    g = clusters.growth(ds)
    np.testing.assert_allclose(g.bx_max, [0.2, 0.4])
    np.testing.assert_allclose(g.width, [0.0, 0.5])
    # over another dimension (Fig. 1c: per JZ), with px over m present
    by_jz = ds.rename(N="JZ").drop_vars(["m", "px"])
    np.testing.assert_allclose(clusters.growth(by_jz, "JZ").width, [0.0, 0.5])


@pytest.mark.parametrize("values, word", [
    ([1, 2, 3], "grows"), ([3, 2, 1], "shrinks"), ([1, 1, 2], "grows, with flat steps"),
    ([2, 2, 1], "shrinks, with flat steps"), ([1, 1], "stays the same"),
    ([1, 3, 2], "is not monotonic")])
def test_trend_words(values, word):
    assert clusters.trend(values) == word


def test_trend_takes_rounding_of_grid_widths_for_flat_steps():
    """Widths read off a Δ grid: 0.4 twice, once with the rounding of a difference."""
    widths = [0.1, 0.4, 3.4 - 3.0, 0.5]
    assert widths[2] < widths[1]
    assert clusters.trend(widths) == "grows, with flat steps"
    assert clusters.trend(widths, rtol=0) == "is not monotonic"


def test_by_N_is_the_exact_scan_of_each_cluster():
    """The FC clusters N = 3, 4 at J𝒵 = 6: the per-N scan agrees point by point with
    exact.scan of each cluster, P(M_x) padded beyond k = N."""
    ds = clusters.by_N("fc", (3, 4), (2.0, 4.0, 3), 6.0, Omega=0.5, progress=False)
    assert ds.bx.dims == ("N", "Delta") and ds.px.sizes["k"] == 5
    for N in (3, 4):
        ref = exact.scan(lattice.fully_connected(N), [2.0, 3.0, 4.0], 6.0, Omega=0.5,
                         progress=False).squeeze("JZ")
        np.testing.assert_allclose(ds.mux.sel(N=N), ref.mux, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ds.px.sel(N=N).values[:, : N + 1], ref.px, atol=1e-12)
    assert np.isnan(ds.px.sel(N=3).values[:, 4]).all()


_GOOD = _entry(bx=np.zeros((1, 4)), peak1=np.zeros((1, 4)), peak2=np.zeros((1, 4)))

BAD_INPUTS = [
    case(clusters.axis, (1.0, 2.0), param="spec"),
    case(clusters.axis, (1.0, 2.0, 2.5), param="spec"),
    case(clusters.by_N, "ring", (8,), (2.0, 4.0, 3), 6.0, param="kind"),
    case(clusters.by_N, "fc", (8, 8), (2.0, 4.0, 3), 6.0, param="Ns"),
    case(clusters.by_N, "fc", 8, (2.0, 4.0, 3), 6.0, param="Ns"),
    case(clusters.by_N, "fc", (8,), (2.0, 4.0), 6.0, param="Delta"),
    case(clusters.by_N, "fc", (8,), (2.0, 4.0, 3), float("nan"), param="JZ"),
    case(clusters.by_N, "fc", (8,), (2.0, 4.0, 3), 6.0, Omega="0.5", param="Omega"),
    case(clusters.most_bimodal, {"bx": 0}, param="ds"),
    case(clusters.most_bimodal, _GOOD.drop_vars("peak2"), param="peak2"),
    case(clusters.most_bimodal, _GOOD, "JZ", param="dim"),
    case(clusters.bimodal_width, [[1.0]], [0.1], param="Delta"),
    case(clusters.growth, _GOOD.drop_vars("converged"), param="converged"),
    case(clusters.growth, _GOOD, "Delta", param="dim"),
    case(clusters.trend, [1.0], param="values"),
    case(clusters.trend, [1.0, np.nan], param="values"),
    case(clusters.trend, [1.0, 2.0], rtol=-1e-9, param="rtol"),
]

test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
