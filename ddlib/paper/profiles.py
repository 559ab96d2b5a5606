"""Profiles: the sizes and grids each chapter runs at.

Every chapter's ``parameters`` cell has ``profile = "fast"`` (the default: the whole book builds
in minutes on 2 cores) or ``"paper"`` (the paper's lattice sizes, bond dimensions and grids).
Chapters and tests read the same table through :func:`settings`, so what CI executes is what a
reader gets by default.
"""

from __future__ import annotations

PROFILES: dict[str, dict[str, dict]] = {
    "model": {
        "fast": {"t_final": 12.0, "n_times": 121, "n_Delta": 41},
        "paper": {"t_final": 12.0, "n_times": 241, "n_Delta": 201},
    },
    # Each chapter below is owned by one developer; edit only your own entry.
    "bimodality": {
        "fast": {"N_1a": 10, "map_N": 8, "map_Delta": (0.0, 8.0, 33), "map_JZ": (0.0, 10.0, 11),
                 "map2d_N": 8, "map2d_Delta": (1.0, 6.0, 21), "map2d_JZ": (0.0, 7.0, 8),
                 "ring_N": 7, "ring_Delta": (0.0, 8.0, 17), "fig4_fc_N": (8, 9, 10),
                 "fig4_fc_Delta": (2.5, 5.0, 41), "fig4_2d_N": (8,),
                 "fig4_2d_Delta": (2.0, 5.0, 13), "scaling_N": (8, 12, 16, 20, 24, 32),
                 "scaling_Delta": (3.0, 4.6, 17), "gap_N": (6, 8, 10, 12),
                 "gap_Delta": (1.0, 6.0, 41)},
        "paper": {"N_1a": 10, "map_N": 8, "map_Delta": (0.0, 8.0, 161),
                  "map_JZ": (0.0, 10.0, 51), "map2d_N": 8, "map2d_Delta": (1.0, 6.0, 101),
                  "map2d_JZ": (0.0, 7.0, 36), "ring_N": 8, "ring_Delta": (0.0, 8.0, 41),
                  "fig4_fc_N": (8, 9, 10), "fig4_fc_Delta": (2.5, 5.0, 161),
                  "fig4_2d_N": (8, 9, 10), "fig4_2d_Delta": (2.0, 5.0, 31),
                  "scaling_N": (10, 20, 30, 40, 60, 80, 100), "scaling_Delta": (2.9, 3.9, 21),
                  "gap_N": (6, 8, 10, 14, 20, 30), "gap_Delta": (1.0, 6.0, 121)},
    },
    "mfqf_derivation": {
        "fast": {"eps": [0.0025, 0.005, 0.01, 0.02], "eps_lattices": ["ring7", "torus3x3"],
                 "dyn_lattices": ["ring7"], "t_final": 15.0, "n_times": 151, "n_JZ": 121,
                 "n_Delta": 13},
        "paper": {"eps": [0.00125, 0.0025, 0.005, 0.01, 0.02, 0.04],
                  "eps_lattices": ["ring7", "torus3x3"], "dyn_lattices": ["ring7", "torus3x3"],
                  "t_final": 20.0, "n_times": 201, "n_JZ": 401, "n_Delta": 41},
    },
    "mpo": {
        # N, chi: the chain of Fig. 2. "paper": the cheapest (N, chi) (least N chi^2) within
        # the book's tolerances (1e-3 in the central mu, 2 % in Sigma_xx) of the paper's own
        # size N = 200, chi = 300 at every Delta of the archive entries mpo_convergence and
        # mpo_convergence_high (0.5 ... 5, drawn in the chapter); "fast": what the build
        # affords
        "fast": {"t_validation": 3.0, "N": 16, "chi": 16, "dt": 0.2,
                 "svd_method": "rsvd", "t_max": 20.0, "tol": 1e-3,
                 "Delta": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
                 "mfqf_L": 100, "n_mfqf": 14},
        "paper": {"t_validation": 5.0, "N": 80, "chi": 64,
                  "dt": 0.25, "svd_method": "rsvd", "t_max": 25.0, "tol": 1e-4,
                  "Delta": [0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0],
                  "mfqf_L": 400, "n_mfqf": 80},
    },
    "chain": {
        "fast": {"N": 16, "chi": 16, "dt": 0.2, "svd_method": "rsvd", "t_max": 20.0,
                 "tol": 1e-3, "Delta": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0], "mfqf_L": 100,
                 "n_mfqf": 14},
        # N, chi: the (N, chi) that chapter mpo's convergence study (archive entry
        # mpo_convergence and mpo_convergence_high) finds within the book's tolerances (1e-3
        # in the central mu, 2 % in Sigma_xx) of the paper's own size N = 200, chi = 300 at
        # every Delta of those entries (0.5 ... 5)
        "paper": {"N": 80, "chi": 64, "dt": 0.25, "svd_method": "rsvd", "t_max": 25.0,
                  "tol": 1e-4,
                  "Delta": [0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0],
                  "mfqf_L": 400, "n_mfqf": 80},
    },
    "multistability": {
        "fast": {"Delta": (1.0, 3.0, 21), "L": {1: 200, 2: 40, 3: 12}, "n_curve": 4001,
                 "JZ": (0.0, 10.0, 201), "jump": 0.15, "jump_tol": 0.01,
                 "cylinder": (3, 4), "cyl_chi": 24, "cyl_chis": [12, 24],
                 "cyl_Delta": [1.0, 3.0], "ladder_chis": [6, 12, 24], "mpo_dt": 0.2,
                 "mpo_t_max": 20.0, "mpo_tol": 1e-3},
        "paper": {"Delta": (0.5, 3.5, 121), "L": {1: 400, 2: 200, 3: 40}, "n_curve": 20001,
                  "JZ": (0.0, 10.0, 1001), "jump": 0.15, "jump_tol": 1e-4,
                  # the 12 × 4 cylinder points (hours each) are read from the archive entry
                  # cylinder_convergence, at the largest χ computed for each Δ
                  "cylinder": "archived", "ladder_chis": [16, 32, 64, 128],
                  "mpo_dt": 0.25, "mpo_t_max": 25.0, "mpo_tol": 1e-4},
    },
    # the archive page reads results/ (and rechecks a cheap sample): one page in both profiles
    "archive": {"fast": {}, "paper": {}},
    # the reproduction page reads results/ only: one page in both profiles
    "reproduction": {"fast": {}, "paper": {}},
    "ising": {
        "fast": {"Omega": (0.5, 2.5, 21), "Omega_zoom": (1.95, 2.25, 13), "L": 40,
                 "n_curve": 4001, "R_max": 12, "jump": 0.15, "jump_tol": 0.002},
        "paper": {"Omega": (0.5, 2.5, 201), "Omega_zoom": (1.95, 2.25, 121), "L": 100,
                  "n_curve": 20001, "R_max": 20, "jump": 0.15, "jump_tol": 1e-4},
    },
}


def settings(chapter: str, profile: str = "fast") -> dict:
    """The settings of ``chapter`` in ``profile`` (``"fast"`` or ``"paper"``), as a new dict.

    Raises
    ------
    ValueError
        For an unknown chapter or profile.
    """
    if chapter not in PROFILES:
        raise ValueError(f"chapter must be one of {sorted(PROFILES)}, got {chapter!r}")
    table = PROFILES[chapter]
    if profile not in table:
        raise ValueError(f"profile must be one of {sorted(table)}, got {profile!r}")
    return dict(table[profile])
