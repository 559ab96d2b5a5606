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
    "mfqf_derivation": {"fast": {}, "paper": {}},
    "mpo": {"fast": {}, "paper": {}},
    "multistability": {"fast": {}, "paper": {}},
    "ising": {"fast": {}, "paper": {}},
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
