"""The read-outs of the archived MFQF windows (ddlib.paper.maps)."""

import json

import matplotlib
import numpy as np
import xarray as xr
from badinput import bad_input_test, case
from matplotlib.figure import Figure

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


def test_edges_full_is_the_end_of_the_last_coexisting_branch():
    """``full`` is max(right, last), the right end where last is unknown."""
    ds = xr.Dataset({"branch_end": (("run", "direction"), [[2.0, 1.7], [2.0, 1.7]]),
                     "last_end": (("run", "direction"), [[2.3, 1.7], [np.nan, 1.7]])},
                    coords={"direction": ["up", "down"]})
    np.testing.assert_allclose(maps.edges(ds, "run")["full"], [2.3, 2.0])


_DELTA = np.round(np.linspace(1.5, 2.4, 46), 10)
_CASES = [(3, 10), (3, 20), (3, 40), (2, 10), (2, 20)]


def _window_entry(quench=True):
    """A synthetic ``window_vs_L``: in 3D the window 1.7 – 2.1, the low-Δ branch carrying from
    Δ = 1.8 - 0.025/L a plateau |η(L/2)| = 0.4 (Δ - 1.8) + 0.01/L on which κ = 4/L² (κ = 0.2
    below it), μ_x = 0.15 - 0.1/L² and Σ_xx/N = 0.08 + 1/L; in 2D the window 2.05 – 2.2 with
    |η(L/2)| = 0.01/L; quenches to Δ = 2 on 10³ and 20³ relaxing at κ."""
    n, c = len(_DELTA), len(_CASES)
    var = {name: np.zeros((c, n, 2)) for name in ("eta_far", "kappa", "mu_x", "sigma_xx")}
    ends, end_far = np.zeros((c, 2)), np.zeros((c, 2))
    for k, (d, L) in enumerate(_CASES):
        lr = _DELTA > 1.8
        if d == 3:
            far = np.where(lr, 0.4 * (_DELTA - 1.8) + 0.01 / L, 1e-4)
            kap, mu, sig = np.where(lr, 4.0 / L**2, 0.2), 0.15 - 0.1 / L**2, (0.08 + 1 / L) * L**3
            ends[k], end_far[k] = (2.1, 1.7), (0.4 * 0.3 + 0.01 / L, 1e-5)
        else:
            far, kap, mu, sig = np.full(n, 0.01 / L), 0.1, 0.17, 0.05 * L**2
            ends[k], end_far[k] = (2.2, 2.05), (0.02 / L, 1e-5)
        for name, v in (("eta_far", far), ("kappa", kap), ("mu_x", mu), ("sigma_xx", sig)):
            var[name][k] = np.broadcast_to(np.asarray(v, float)[..., None], (n, 2))
        var["eta_far"][k, :, 1] = 1e-5
    ds = xr.Dataset({name: (("case", "Delta", "direction"), v) for name, v in var.items()}
                    | {"branch_end": (("case", "direction"), ends),
                       "last_end": (("case", "direction"), ends),
                       "end_eta_far": (("case", "direction"), end_far),
                       "probe": ("case", [2.0 if d == 3 else 2.2 for d, _ in _CASES])},
                    coords={"D": ("case", [d for d, _ in _CASES]),
                            "L": ("case", [L for _, L in _CASES]),
                            "Delta": _DELTA, "direction": ["up", "down"]},
                    attrs={"options": json.dumps({"tol": 1e-3, "Omega": 0.5, "JZ": 4.0})})
    if quench:
        t = np.linspace(0, 900, 181)
        mu_t = np.stack([np.stack([0.15 - 0.1 / L**2 + 0.5 * np.exp(-4.0 / L**2 * t),
                                   0 * t, 0 * t], -1) for L in (10, 20)])
        ds = ds.assign(dyn_mu=(("L_dyn", "t", "xyz"), mu_t),
                       dyn_eta_far=("L_dyn", [0.4 * 0.2 + 0.01 / L for L in (10, 20)]))
        ds = ds.assign_coords(L_dyn=[10, 20], t=t, xyz=["x", "y", "z"])
    return ds


def test_window_vs_L_report_reads_the_windows_and_the_scaling_of_the_long_range_part():
    """The 3D window (0.4) is wider than the 2D one (0.15) and both its edges are closer to
    MF's (1.3 – 1.9): the paper's reading holds for every stable state; the decaying part
    (to the onset 1.8 - 0.025/L) is narrower. κ ∝ L^-2 past the onset, L-independent
    before; the onset drifts up by shrinking steps; in 2D |η(L/2)| falls with L."""
    r = maps.window_vs_L_report(_window_entry(), (1.3, 1.9))
    assert r["wider"] and r["towards"]
    np.testing.assert_allclose(r["onset"][:3], [1.8 - 0.025 / L for L in (10, 20, 40)])
    assert np.isnan(r["onset"][3:]).all()
    assert abs(r["kappa_exponent"] - 2) < 1e-9 and r["kappa_spread"] == 0
    assert r["end_spread"] == 0
    assert "it widens and moves towards the MF window" in r["conclusion"]
    assert "as the paper says" in r["conclusion"] and "is narrower than" in r["conclusion"]
    assert "drifts up with $L$ by amounts that shrink" in r["scaling"]
    assert "they converge as $L$ grows" in r["scaling"] and "$p = 2.00$" in r["scaling"]
    assert "it falls with $L$, there is no such plateau" in r["scaling"]
    assert "marginal (gapless)" in r["marginal"]
    assert r["table"].count("\n") == 6 and "| $40^3$ | 1.700 | 2.100 | 0.400 |" in r["table"]
    away = maps.window_vs_L_report(_window_entry(), (2.3, 2.5))  # MF far above both windows
    assert not away["towards"] and "does not move towards" in away["conclusion"]


def test_quench_relaxation_recovers_the_rate_of_an_exponential_approach():
    q = maps.quench_relaxation(_window_entry(), 2.0)
    for L, run in q["runs"].items():
        assert abs(run["rate"] - 4.0 / L**2) < 1e-6 and run["kappa"] == 4.0 / L**2
    assert q["worst"] < 1e-6 and q["reached"] < 1e-12
    assert "relaxes into it at the rate κ" in q["text"]


def _runs_entry(runs, ends):
    return xr.Dataset({"branch_end": (("run", "direction"), ends)},
                      coords={"direction": ["up", "down"]},
                      attrs={"options": json.dumps({"Omega": 0.5, "runs": runs})})


def test_map_report_compares_the_windows_with_mean_field():
    """At Ω = 0.5 MF is bistable at J𝒵 = 4 (1.261 – 1.887) and 6 (1.953 – 3.5); the MFQF
    windows lie right of MF's and are narrower, widen with J𝒵 and from 2D to 3D, and 2D has
    none at J𝒵 = 4."""
    runs = [{"D": 2, "L": 10, "JZ": 4.0}, {"D": 2, "L": 10, "JZ": 6.0},
            {"D": 3, "L": 6, "JZ": 4.0}, {"D": 3, "L": 6, "JZ": 6.0}]
    r = maps.map_report(_runs_entry(runs, [[2.0, 2.1], [3.2, 3.0], [2.0, 1.7], [3.0, 2.5]]))
    assert r["right_of_mf"] and r["widen_jz"] and r["widen_d"]
    assert "| 4 | 1.261 – 1.887 | none | 1.700 – 2.000 (2.000) |" in r["table"]
    assert "At $J\\mathcal Z$ = 4 MF is bistable while 2D MFQF has a crossover" in r["findings"]


def test_dimension_report_sees_the_edges_move_towards_mean_field():
    runs = [{"D": d, "L": 8, "JZ": 4.0} for d in (2, 3, 4)]
    r = maps.dimension_report(_runs_entry(runs, [[2.2, 2.05], [2.1, 1.7], [2.0, 1.5]]))
    assert r["toward"] and abs(r["mf_window"].lower - 1.261) < 1e-3
    assert "both edges move monotonically towards MF's" in r["text"]
    assert "widths 0.15, 0.40, 0.50" in r["text"] and r["table"].count("\n") == 4
    r = maps.dimension_report(_runs_entry(runs, [[2.2, 2.05], [2.1, 1.7], [2.15, 1.5]]))
    assert not r["toward"] and "do not move monotonically" in r["text"]


def test_draw_window_draws_thin_thick_and_ticks():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    e = {"left": [1.7], "decaying": [1.8], "full": [2.1]}
    assert maps.draw_window(ax, e, 0, 4.0, "k") == 2.1
    thin, thick, ticks = ax.lines
    assert thin.get_xdata().tolist() == [1.7, 2.1] and thick.get_xdata().tolist() == [1.7, 1.8]
    assert ticks.get_xdata().tolist() == [1.7, 1.8, 2.1] and thick.get_linewidth() == 2.5
    plt.close(fig)


def test_draw_archived_and_draw_sweep_break_at_jumps_and_branch_ends():
    import matplotlib.pyplot as plt

    sweep = xr.Dataset({"mu_x": ("Delta", [0.3, 0.2, -0.3]), "kappa": ("Delta", [1, 2, 3])},
                       coords={"Delta": [1.0, 2.0, 3.0]})
    fig, ax = plt.subplots()
    maps.draw_archived(ax, sweep, "kappa", 0.15, "k", log=True)
    (line,) = ax.lines
    assert np.isnan(line.get_xdata()[2]) and ax.get_yscale() == "log"
    hyst = xr.Dataset({"mu_x": (("Delta", "direction"), [[0.3, 0.3], [0.2, 0.2], [-0.3, -0.3]]),
                       "eta_far": (("Delta", "direction"), np.zeros((3, 2))),
                       "branch_end": ("direction", [2.5, 1.5]),
                       "end_mu_x": ("direction", [0.1, 0.25]),
                       "end_eta_far": ("direction", [0.0, 0.0])},
                      coords={"Delta": [1.0, 2.0, 3.0], "direction": ["up", "down"]})
    fig2, ax2 = plt.subplots()
    maps.draw_sweep(ax2, hyst, "mu_x", "up", "k")
    assert ax2.lines[0].get_xdata().tolist() == [1.0, 2.0, 2.5]
    plt.close(fig)
    plt.close(fig2)


def test_entry_params_reads_the_first_run():
    ds = xr.Dataset(attrs={"options": json.dumps({"Omega": 0.5, "runs": [{"JZ": 6.0}]})})
    assert maps.entry_params(ds) == "$\\Omega = 0.5$, $J\\mathcal Z = 6$"


_ONE = xr.Dataset({"mu_x": (("Delta", "direction"), np.zeros((3, 2)))},
                  coords={"Delta": [1.0, 2.0, 3.0], "direction": ["up", "down"]})
_AX = Figure().add_subplot()
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
    case(maps.window_vs_L_report, xr.Dataset(), (1.3, 1.9), param="ds"),
    case(maps.window_vs_L_report, _window_entry(False), (1.9, 1.3), param="mf_window"),
    case(maps.window_vs_L_report, _window_entry(False), 1.3, param="mf_window"),
    case(maps.quench_relaxation, _window_entry(False), 2.0, param="ds"),
    case(maps.quench_relaxation, _window_entry(), -2.0, param="delta_to"),
    case(maps.quench_relaxation, _window_entry(), 2.0, above=1e-2, below=1e-3, param="above"),
    case(maps.draw_window, None, {"left": [1], "decaying": [1], "full": [2]}, 0, 1.0, "k",
         param="ax"),
    case(maps.draw_window, _AX, {"left": [1]}, 0, 1.0, "k", param="e"),
    case(maps.draw_window, _AX, {"left": [1], "decaying": [1], "full": [2]}, 1, 1.0, "k",
         param="k"),
    case(maps.map_report, xr.Dataset(), param="ds"),
    case(maps.map_report, _runs_entry([], np.ones((0, 2))), xr.Dataset(), param="window_vs_L"),
    case(maps.dimension_report, _ENTRY, param="ds"),
    case(maps.entry_params, xr.Dataset(), param="ds"),
    case(maps.draw_archived, None, _ONE, "mu_x", 0.15, "k", param="ax"),
    case(maps.draw_archived, _AX, _ONE, "kappa", 0.15, "k", param="var"),
    case(maps.draw_archived, _AX, xr.Dataset(), "mu_x", 0.15, "k", param="sweep"),
    case(maps.draw_sweep, _AX, _ONE, "mu_x", "up", "k", param="ds"),
]

test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
