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
    "bimodality": {"fast": {}, "paper": {}},
    "mfqf_derivation": {
        "fast": {"eps": [0.0025, 0.005, 0.01, 0.02], "eps_lattices": ["ring7", "torus3x3"],
                 "dyn_lattices": ["ring7"], "t_final": 15.0, "n_times": 151, "n_JZ": 121},
        "paper": {"eps": [0.00125, 0.0025, 0.005, 0.01, 0.02, 0.04],
                  "eps_lattices": ["ring7", "torus3x3"], "dyn_lattices": ["ring7", "torus3x3"],
                  "t_final": 20.0, "n_times": 201, "n_JZ": 401},
    },
    "mpo": {"fast": {}, "paper": {}},
    "multistability": {
        "fast": {"Delta": (0.5, 3.5, 31), "L": {1: 200, 2: 40, 3: 12}, "n_curve": 4001,
                 "JZ": (0.0, 10.0, 201)},
        "paper": {"Delta": (0.5, 3.5, 121), "L": {1: 400, 2: 200, 3: 40}, "n_curve": 20001,
                  "JZ": (0.0, 10.0, 1001)},
    },
    "ising": {
        "fast": {"Omega": (0.5, 2.5, 41), "L": 40, "n_curve": 4001, "R_max": 12},
        "paper": {"Omega": (0.5, 2.5, 201), "L": 100, "n_curve": 20001, "R_max": 20},
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
