"""The read-outs of the archived MFQF windows (ddlib.paper.maps)."""

import matplotlib
import numpy as np
import xarray as xr
from badinput import bad_input_test, case

from ddlib.paper import maps

matplotlib.use("Agg")


def test_edges_read_the_window_of_each_sweep_pair():
    ds = xr.Dataset({"branch_end": (("case", "direction"), [[2.09, 1.70], [1.35, 1.41]]),
                     "last_end": (("case", "direction"), [[2.09, 1.70], [1.35, 1.41]])},
                    coords={"direction": ["up", "down"]})
    e = maps.edges(ds, "case")
    np.testing.assert_allclose(e["left"], [1.70, 1.41])
    np.testing.assert_allclose(e["right"], [2.09, 1.35])
    assert e["bistable"].tolist() == [True, False]  # the second pair: a crossover


def test_long_range_onset_is_the_zero_of_a_linear_plateau():
    """A plateau rising linearly from Δ_c = 1.8 (on a decaying background below 0.03) is
    extrapolated back to 1.8; too few plateau points give NaN."""
    x = np.linspace(1.5, 2.1, 31)
    far = np.where(x > 1.8, 0.4 * (x - 1.8), 1e-4)
    assert abs(maps.long_range_onset(x, far) - 1.8) < 1e-9
    assert np.isnan(maps.long_range_onset(x[:20], far[:20]))


def test_unjumped_breaks_the_line_at_jumps_only():
    x, y = maps.unjumped([1, 2, 3, 4], [0.3, 0.2, -0.3, -0.35], [0.3, 0.2, -0.3, -0.35], 0.15)
    assert np.isnan(x[2]) and np.isnan(y[2]) and x.size == 5


def test_draw_branch_marks_the_long_range_part_open():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    maps.draw_branch(ax, [1, 2, 3], [0.1, 0.2, np.nan], [0.0, 0.5, 0.5], "k")
    line, filled, hollow = ax.lines
    assert filled.get_xdata().tolist() == [1.0] and hollow.get_xdata().tolist() == [2.0]
    assert hollow.get_markerfacecolor() == "white"
    assert maps.shade(0, 3) != maps.shade(2, 3)
    plt.close(fig)


def test_sweep_of_reads_a_run_on_its_own_grid_and_edges_find_the_decaying_part():
    """A run stored on index s with its Δ grid (padded with NaN): the sweep is cut at its
    branch end and read against Δ; a plateau rising from 1.8 ends the decaying part there."""
    grid = np.r_[np.linspace(1.5, 2.1, 13), np.nan]
    far = np.where(grid > 1.8, 0.4 * (grid - 1.8), 1e-5)
    ds = xr.Dataset({"eta_far": (("run", "s", "direction"), np.stack([far, far], -1)[None]),
                     "Delta_grid": (("run", "s"), grid[None]),
                     "branch_end": (("run", "direction"), [[2.05, 1.6]]),
                     "end_eta_far": (("run", "direction"), [[0.1, 1e-5]])},
                    coords={"direction": ["up", "down"]})
    x, y = maps.sweep_of(ds.isel(run=0), "eta_far", "up")
    fin = np.isfinite(y)
    assert x[fin][-1] == 2.05 and y[fin][-1] == 0.1 and np.all(np.diff(x) > 0)
    e = maps.edges(ds, "run")
    assert abs(e["decaying"][0] - 1.8) < 1e-9 and e["right"][0] == 2.05


_ONE = xr.Dataset({"mu_x": (("Delta", "direction"), np.zeros((3, 2)))},
                  coords={"Delta": [1.0, 2.0, 3.0], "direction": ["up", "down"]})
_ENTRY = xr.Dataset({"branch_end": (("case", "direction"), np.ones((1, 2)))},
                    coords={"direction": ["up", "down"]})

BAD_INPUTS = [
    case(maps.edges, xr.Dataset(), "case", param="ds"),
    case(maps.edges, _ENTRY, "run", param="dim"),
    case(maps.sweep_of, _ONE, "kappa", "up", param="var"),
    case(maps.sweep_of, _ONE, "mu_x", "sideways", param="direction"),
    case(maps.draw_branch, None, [1, 2], [1, 2], [0, 0], "k", param="ax"),
    case(maps.long_range_onset, [1, 2, 3], [0.1, 0.2], param="far"),
    case(maps.long_range_onset, [1, 2, 3], [0.1, 0.2, 0.3], lo=-0.1, param="lo"),
    case(maps.unjumped, [1, 2], [1, 2], [0.1, 0.2], 0.0, param="jump"),
    case(maps.unjumped, [1, 2], [1], [0.1, 0.2], 0.1, param="y"),
    case(maps.shade, 3, 3, param="i"),
    case(maps.shade, 0, 2.5, param="n"),
]

test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
