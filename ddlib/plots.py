"""Figure helpers shared by the chapters: one paper-like style, consistent labels."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["paper_style", "subplots", "LABELS", "COLORS"]

#: Axis labels with symbols and units (Γ = 1 sets the unit of frequency and time).
LABELS = {
    "Delta": r"detuning $\Delta$ [$\Gamma$]",
    "Omega": r"drive $\Omega$ [$\Gamma$]",
    "JZ": r"coupling $J\mathcal{Z}$ [$\Gamma$]",
    "t": r"time $t$ [$1/\Gamma$]",
    "mux": r"$\mu_x^S$",
    "muy": r"$\mu_y^S$",
    "muz": r"$\mu_z^S$",
    "m": r"$m$ ($x$ magnetisation per site)",
    "Px": r"$P(M_x = m)$",
    "bx": r"bimodality $b_x$",
    "kappa": r"relaxation rate $\kappa$ [$\Gamma$]",
    "gap": r"Liouvillian gap [$\Gamma$]",
    "R": r"distance $R$ [sites]",
}

#: One colour per method, the same in every chapter.
COLORS = {"MF": "0.35", "MFQF": "C3", "MPO": "C0", "exact": "C2", "1D": "C0", "2D": "C3",
          "3D": "C1"}

_RC = {
    "font.family": "serif",
    "font.size": 10,
    "axes.labelsize": 11,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "lines.linewidth": 1.6,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "mathtext.fontset": "cm",
}


def paper_style() -> None:
    """Switch matplotlib to the book's paper-like style (serif, inward ticks, no frames)."""
    mpl.rcParams.update(_RC)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 3.4, height: float = 2.6,
             **kwargs):
    """``plt.subplots`` in the book's style, each panel ``width`` × ``height`` inches,
    panels labelled (a), (b), … when there are several."""
    paper_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             constrained_layout=True, **kwargs)
    if nrows * ncols > 1:
        for k, ax in enumerate(axes.flat):
            ax.text(0.02, 0.97, f"({chr(97 + k)})", transform=ax.transAxes, va="top",
                    ha="left", fontweight="bold")
    return fig, axes
