"""Figure helpers shared by the chapters: one paper-like style, consistent labels."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

__all__ = ["paper_style", "subplots", "panel_labels_above", "panel_labels_in_titles",
           "draw_lattice", "mf_branches",
           "bx_map", "bx_panels", "LABELS", "COLORS"]

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
    for name, n in (("nrows", nrows), ("ncols", ncols)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    for name, x in (("width", width), ("height", height)):
        if isinstance(x, bool) or not isinstance(x, int | float) or not 0 < x < float("inf"):
            raise ValueError(f"{name} must be a positive number of inches, got {x!r}")
    paper_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             constrained_layout=True, **kwargs)
    if nrows * ncols > 1:
        for k, ax in enumerate(axes.flat):
            ax.text(0.02, 0.97, f"({chr(97 + k)})", transform=ax.transAxes, va="top",
                    ha="left", fontweight="bold", gid=_PANEL_LABEL)
    return fig, axes


_PANEL_LABEL = "panel-label"


def _panel_labels(axes) -> list:
    """(axes, text) of every panel label :func:`subplots` wrote into ``axes``."""
    if not hasattr(axes, "__iter__") or not all(hasattr(ax, "texts") for ax in axes):
        raise TypeError(f"axes must be a sequence of matplotlib Axes, got {axes!r}")
    return [(ax, text) for ax in axes for text in ax.texts if text.get_gid() == _PANEL_LABEL]


def panel_labels_above(axes) -> None:
    """Move the panel labels (a), (b), … that :func:`subplots` writes into the top-left
    corner of each panel to just above that corner, outside the axes: for panels whose
    curves fill the corner (e.g. deviations that are largest at the smallest abscissa).

    Parameters
    ----------
    axes : sequence of matplotlib Axes
        Panels of :func:`subplots`; a panel without a label is left as it is.
    """
    for _, text in _panel_labels(axes):
        text.set_position((0.0, 1.02))
        text.set_verticalalignment("bottom")


def panel_labels_in_titles(axes) -> None:
    """Move the panel labels (a), (b), … that :func:`subplots` writes into the top-left
    corner of each panel to the start of the panel's title: for panels whose title already
    fills the space above the axes and whose curves fill the corner.

    Parameters
    ----------
    axes : sequence of matplotlib Axes
        Panels of :func:`subplots`; a panel without a label is left as it is.
    """
    for ax, text in _panel_labels(axes):
        ax.set_title(f"{text.get_text()} {ax.get_title()}".rstrip(),
                     fontsize=ax.title.get_fontsize())
        text.remove()


def draw_lattice(ax, lattice, *, path: bool = False) -> None:
    """Draw the sites and bonds of a lattice with ``dim <= 2`` (or a fully connected graph).

    Bonds between geometric neighbours are solid; bonds that close a periodic boundary are drawn
    as dashed stubs leaving the cluster. The fully connected graph is drawn on a circle. With
    ``path=True`` the site numbering (the MPS path of a cylinder) is drawn as a grey arrow line.
    """
    import numpy as np

    from ddlib.lattice import check_lattice

    lattice = check_lattice(lattice)
    if not hasattr(ax, "plot"):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    circle = lattice.coords is None or (lattice.dim == 1 and lattice.periodic[0])
    if circle:
        phi = 2 * np.pi * np.arange(lattice.N) / lattice.N
        xy = np.c_[np.cos(phi), np.sin(phi)] * (1 if lattice.coords is None else lattice.N / 6)
    else:
        xy = np.c_[lattice.coords, np.zeros(lattice.N)][:, :2].astype(float)
    solid = {}
    for i, j in lattice.bonds:
        d = xy[j] - xy[i]
        if circle or np.isclose(np.hypot(*d), 1.0):
            ax.plot(*xy[[i, j]].T, color="0.3", lw=1.0, zorder=1)
            solid.setdefault(i, set()).add(tuple(np.round(d)))
            solid.setdefault(j, set()).add(tuple(-np.round(d)))
    if not circle:  # periodic bonds: a dashed stub in each free periodic direction
        units = [s * np.eye(2)[k] for k in range(lattice.dim) if lattice.periodic[k]
                 for s in (1, -1)]
        for i in range(lattice.N):
            for e in units:
                if tuple(e) not in solid.get(i, set()):
                    ax.plot(*np.c_[xy[i], xy[i] + 0.45 * e], color="0.3", lw=1.0, ls="--",
                            zorder=1)
    if path:
        ax.plot(*xy.T, color="C1", lw=2.5, alpha=0.5, zorder=0)
    ax.scatter(*xy.T, s=60, color="C0", zorder=2, edgecolor="k", linewidth=0.6)
    for k, (x, y) in enumerate(xy):
        ax.annotate(str(k), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=7)
    ax.set_aspect("equal")
    ax.margins(0.18)  # room for the site numbers and a panel label in the corner
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(repr(lattice), fontsize=9)


def mf_branches(ax, curve, component: int = 0, *, window=None, label: str = "MF",
                values=None) -> None:
    """Draw a mean-field response curve: stable branches solid, the unstable one dotted, and
    the two folds of ``window`` as black hexagrams (the paper's Fig. 2a).

    Parameters
    ----------
    ax : matplotlib Axes
    curve : ddlib.meanfield.ResponseCurve
        Every branch, with ``values`` (n,), ``mu`` (n, 3) and ``stable`` (n,).
    component : {0, 1, 2}
        The component of μ drawn (x, y, z).
    window : ddlib.meanfield.Window, optional
        The bistable window whose folds (``lower``/``upper`` with ``mu_lower``/``mu_upper``)
        are marked.
    label : str
        Legend label of the stable branches.
    values : array_like, shape (n,), optional
        Drawn instead of μ's ``component`` (e.g. ``curve.kappa``); the folds are then not
        marked.
    """
    import numpy as np

    if not hasattr(ax, "plot"):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    if not all(hasattr(curve, a) for a in ("values", "mu", "stable")):
        raise TypeError(f"curve must be a meanfield.ResponseCurve, got {type(curve).__name__}")
    if isinstance(component, bool) or component not in (0, 1, 2):
        raise ValueError(f"component must be 0, 1 or 2, got {component!r}")
    if window is not None and not all(hasattr(window, a) for a in ("lower", "upper",
                                                                    "mu_lower", "mu_upper")):
        raise TypeError(f"window must be a meanfield.Window or None, got "
                        f"{type(window).__name__}")
    stable = np.asarray(curve.stable, bool)
    y = np.asarray(curve.mu)[:, component] if values is None else np.asarray(values, float)
    if y.shape != stable.shape:
        raise ValueError(f"values must have the curve's shape {stable.shape}, got {y.shape}")
    ax.plot(curve.values, np.where(stable, y, np.nan), color=COLORS["MF"], label=label)
    ax.plot(curve.values, np.where(stable, np.nan, y), ":", color=COLORS["MF"],
            label=f"{label} unstable")
    if window is not None and values is None:
        ax.plot([window.lower, window.upper],
                [window.mu_lower[component], window.mu_upper[component]], "kh", ms=7,
                label=f"{label} folds")


def bx_map(ax, ds, *, title: str | None = None, edges=None):
    """Draw the bimodality index ``ds.bx`` over the (Δ, J𝒵) plane (Figs. 1b, 1c).

    Parameters
    ----------
    ax : matplotlib Axes
    ds : xarray.Dataset
        With ``bx`` on the dimensions ``Delta`` and ``JZ`` (an exact scan or an archive entry).
    title : str, optional
    edges : callable, optional
        ``edges(JZ) -> (lower, upper)``, e.g. ``partial(meanfield.bistable_edges, Omega)``:
        drawn as white dotted lines (the MF bistability edges of the paper's figures).

    Returns
    -------
    matplotlib.collections.QuadMesh
        For a colour bar.
    """
    import numpy as np

    if not hasattr(ax, "pcolormesh"):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    if not hasattr(ds, "data_vars") or "bx" not in ds or set(ds.bx.dims) != {"Delta", "JZ"}:
        raise ValueError("ds must be a Dataset with bx over the dimensions Delta and JZ")
    if edges is not None and not callable(edges):
        raise TypeError(f"edges must be callable or None, got {type(edges).__name__}")
    mesh = ax.pcolormesh(ds.Delta, ds.JZ, ds.bx.transpose("JZ", "Delta"), cmap="viridis",
                         vmin=0, vmax=max(float(ds.bx.max()), 1e-3), shading="nearest")
    if edges is not None:
        jz = np.linspace(float(ds.JZ.min()), float(ds.JZ.max()), 201)
        lower, upper = edges(jz)
        ax.plot(lower, jz, ":", color="w", lw=1.8, label="MF bistability edges")
        ax.plot(upper, jz, ":", color="w", lw=1.8)
    ax.set(xlabel=LABELS["Delta"], ylabel=LABELS["JZ"])
    if title is not None:
        ax.set_title(title)
    ax.set_xlim(float(ds.Delta.min()), float(ds.Delta.max()))
    return mesh


def bx_panels(own, archived=None, *, label: str, N: int, edges=None):
    """Figs. 1b, 1c: this build's b_x map beside the archived one, each with its colour bar.

    The archived map is drawn only where its grid differs from this build's (a build that
    computed the archive's grid itself does not draw it twice).

    Parameters
    ----------
    own, archived : xarray.Dataset
        ``bx`` over (Delta, JZ) (:func:`bx_map`); ``archived`` may be None (entry missing).
    label : str
        The cluster, e.g. ``"FC"`` or ``"2D"``, for the panel titles with ``N``.
    N : int
        This build's cluster size (the archive's is read from its options).
    edges : callable, optional
        As in :func:`bx_map`.

    Returns
    -------
    (matplotlib.figure.Figure, xarray.Dataset or None)
        The figure and the archived map actually drawn.
    """
    import json

    if not isinstance(label, str):
        raise TypeError(f"label must be a string, got {type(label).__name__}")
    if not hasattr(own, "data_vars") or "bx" not in own:
        raise ValueError("own must be a Dataset with bx over the dimensions Delta and JZ")
    if archived is not None and archived.bx.shape == own.bx.shape:
        archived = None
    panels = [(own, f"{label} $N={N}$, this build")]
    if archived is not None:
        n_arch = json.loads(archived.attrs["options"])["N"]
        panels.append((archived, f"{label} $N={n_arch}$, archived"))
    fig, axes = subplots(1, len(panels), width=4.2, height=3.0, squeeze=False)
    for ax, (ds, title) in zip(axes[0], panels, strict=True):
        fig.colorbar(bx_map(ax, ds, title=title, edges=edges), ax=ax, label=LABELS["bx"])
    return fig, archived
