r"""The archive: the paper's figures at the paper's resolution, computed once and shipped as data.

What takes minutes to hours at the paper's resolution is computed once, by one resumable
command, into ``results/`` at the top of the repository — one labelled
:class:`xarray.Dataset` per entry, written as netCDF (portable, and unlike pickle it runs no
code when it is read) — and the book draws it beside what its default build computes itself::

    python -m ddlib.archive list                 # what the archive holds, and whether it is fresh
    python -m ddlib.archive make                 # (re)make every entry; resumes where it stopped
    python -m ddlib.archive make -w 2            # all entries, two at a time in 2 processes
    python -m ddlib.archive check                # recompute a cheap sample of archived points
    python -m ddlib.archive check --certify      # ... and mark what is reproduced as fresh
    python -m ddlib.archive adopt cylinder_convergence  # its MPO ladders into the cache

Each file carries its **provenance** as attributes: the command that made it, the ddlib version
and git commit, the fingerprint of the source of the solver modules that computed it (and of
the ddlib modules they import), the options, the date, the machine (CPU model and cores) and
the wall time. An entry is **stale** when the fingerprint of its solvers' current source
differs from the archived one: :func:`status` says so (the book shows it on a page), and
:func:`check` recomputes a cheap sample of its points within stated tolerances (a test runs it,
so an archive that the current code no longer reproduces fails CI).

Every point of an entry is computed through :func:`ddlib.sweep.grid`, hence cached on disk
point by point: an interrupted ``make`` resumes where it stopped.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from . import __version__
from .cache import _write_atomic, cache_dir, code_fingerprint

__all__ = ["Entry", "ENTRIES", "archive_dir", "provenance", "solver_fingerprint", "save",
           "load", "status", "check", "make", "adopt", "main"]

REPO = Path(__file__).resolve().parent.parent


def archive_dir() -> Path:
    """The archive directory: ``$DDLIB_ARCHIVE`` if set, else ``results/`` in the repository."""
    where = os.environ.get("DDLIB_ARCHIVE", "")
    return Path(where).expanduser() if where else REPO / "results"


# ----------------------------------------------------------------------------- provenance

def solver_fingerprint(modules: Sequence[str]) -> str:
    """Hash of the source of ``modules`` and of every ``ddlib`` module they import
    (transitively; :func:`ddlib.cache.code_fingerprint`, the key of cached points too):
    editing a plot label or a profile leaves a solver's archived results fresh.

    Parameters
    ----------
    modules : sequence of str
        Dotted module names, e.g. ``["ddlib.exact"]``.
    """
    if isinstance(modules, str) or not modules:
        raise ValueError("modules must be a non-empty sequence of module names")
    try:
        return code_fingerprint(tuple(modules))
    except ValueError as err:
        raise ValueError(f"modules: {err}") from None


def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain",
                                "--untracked-files=no", "--", "ddlib"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; {os.cpu_count()} cores; {platform.system()} {platform.release()}"


def provenance(*, command: str, solvers: Sequence[str], options: dict | None = None,
               wall_time: float = float("nan")) -> dict:
    """Attributes that say where an archived dataset came from (plain strings and numbers,
    as netCDF attributes must be).

    Parameters
    ----------
    command : str
        The command that made it.
    solvers : sequence of str
        The ddlib modules whose code computed it (see :func:`solver_fingerprint`).
    options : dict, optional
        Parameters and solver options (stored as JSON text).
    wall_time : float
        Seconds.
    """
    try:
        fingerprint = solver_fingerprint(solvers)
    except ValueError as err:
        raise ValueError(f"solvers: {err}") from None
    return {"command": command, "ddlib_version": __version__, "git_commit": _git_commit(),
            "solvers": ",".join(solvers), "solver_fingerprint": fingerprint,
            "options": json.dumps(options or {}, sort_keys=True, default=str),
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "machine": _machine(), "wall_time_s": float(wall_time)}


# ----------------------------------------------------------------------------- files

def _path(name: str, directory: Path | None) -> Path:
    if name not in ENTRIES:
        raise ValueError(f"name must be one of {sorted(ENTRIES)}, got {name!r}")
    if directory is not None and not isinstance(directory, str | os.PathLike):
        raise TypeError(f"directory must be a path, got {type(directory).__name__}")
    return Path(directory or archive_dir()) / f"{name}.nc"


def save(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` as netCDF, atomically (a temporary file, then a rename), so an
    interrupted write never leaves a half-written archive file."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        ds.to_netcdf(tmp)
        tmp.chmod(0o644)  # mkstemp's 0600 would keep the archive from other users

    _write_atomic(path, write)
    return path


def load(name: str, directory: str | Path | None = None) -> xr.Dataset:
    """The archived dataset ``name`` (loaded into memory; the file is closed).

    Raises
    ------
    FileNotFoundError
        When the entry has not been made (the message gives the command that makes it).
    """
    path = _path(name, directory)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: make it with "
                                f"`python -m ddlib.archive make {name}`")
    with xr.open_dataset(path) as ds:
        return ds.load()


# ----------------------------------------------------------------------------- entries

@dataclass(frozen=True)
class Entry:
    """One archived dataset.

    Attributes
    ----------
    name : str
        File stem in ``results/``.
    figure : str
        The paper's figure (and panel) it reproduces.
    description : str
        What it holds, for the book and ``list``.
    solvers : tuple of str
        The ddlib modules that compute it (their fingerprint decides freshness).
    options : dict
        Everything the computation depends on (recorded in the provenance).
    compute : callable
        ``compute(options, progress) -> xarray.Dataset``.
    sample : callable
        ``sample(ds) -> list of (label, archived, recomputed, tol)``: a cheap sample of points
        recomputed with the current code, for :func:`check`.
    """

    name: str
    figure: str
    description: str
    solvers: tuple[str, ...]
    options: dict
    compute: Callable[[dict, bool], xr.Dataset]
    sample: Callable[[xr.Dataset], list]


def _mf_response(opt: dict, progress: bool) -> xr.Dataset:
    from . import meanfield
    from .model import Model

    model = Model(Delta=0.0, Omega=opt["Omega"], J=opt["JZ"])
    c = meanfield.response_curve(model, 1.0, "Delta", tuple(opt["Delta"]), n=opt["n"])
    w = meanfield.bistable_range(opt["Omega"], opt["JZ"])
    edges = (np.nan, np.nan) if w is None else (w.lower, w.upper)
    jz = np.linspace(*opt["JZ_map"])
    lower, upper = meanfield.bistable_edges(opt["Omega"], jz)
    return xr.Dataset(
        {"Delta": ("s", c.values, {"long_name": "detuning Δ", "units": "Γ"}),
         "mu_x": ("s", c.mu[:, 0]), "mu_y": ("s", c.mu[:, 1]), "mu_z": ("s", c.mu[:, 2]),
         "stable": ("s", c.stable), "kappa": ("s", c.kappa, {"units": "Γ"}),
         "edge_lower": ("JZ", lower, {"long_name": "lower MF bistability edge Δ₋"}),
         "edge_upper": ("JZ", upper, {"long_name": "upper MF bistability edge Δ₊"})},
        coords={"JZ": ("JZ", jz, {"long_name": "J𝒵", "units": "Γ"})},
        attrs={"window_lower": edges[0], "window_upper": edges[1],
               "title": "MF response curve (all branches) at Ω = 0.5, J𝒵 = 4; MF window "
                        "edges over J𝒵"})


def _mf_response_sample(ds: xr.Dataset) -> list:
    from . import meanfield
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    w = meanfield.bistable_range(opt["Omega"], opt["JZ"])
    rows = [("window lower edge", ds.attrs["window_lower"], w.lower, 1e-9),
            ("window upper edge", ds.attrs["window_upper"], w.upper, 1e-9)]
    for i in np.linspace(0, ds.sizes["s"] - 1, 5).astype(int):
        d = float(ds.Delta[i])
        fps = meanfield.steady_states(Model(Delta=d, Omega=opt["Omega"], J=opt["JZ"]), 1.0)
        mu = np.array([float(ds.mu_x[i]), float(ds.mu_y[i]), float(ds.mu_z[i])])
        near = min(fps.fixed_points, key=lambda p: float(np.abs(p.mu - mu).max()))
        rows.append((f"MF fixed point μ_z at Δ = {d:.4f}", mu[2], float(near.mu[2]), 1e-6))
    for k in (len(ds.JZ) // 2, len(ds.JZ) - 1):
        jz = float(ds.JZ[k])
        lo, hi = meanfield.bistable_edges(opt["Omega"], [jz])
        rows.append((f"Δ₋ at J𝒵 = {jz:g}", float(ds.edge_lower[k]), float(lo[0]), 1e-9))
        rows.append((f"Δ₊ at J𝒵 = {jz:g}", float(ds.edge_upper[k]), float(hi[0]), 1e-9))
    return rows


def _lattice(kind: str, N: int):
    from . import lattice

    return {"fc": lattice.fully_connected, "2d": lattice.cluster2d}[kind](N)


def _scan(opt: dict, N: int, Delta, JZ, progress: bool, keep=("bx", "mux", "muy", "muz",
                                                                  "converged")):
    from . import exact

    ds = exact.scan(_lattice(opt["lattice"], N), Delta, JZ, Omega=opt["Omega"],
                    progress=progress)
    return ds[list(keep)]


def _labelled(ds: xr.Dataset, title: str) -> xr.Dataset:
    for name, attrs in {"bx": {"long_name": "bimodality index b_x"},
                        "px": {"long_name": "P(M_x = m)"},
                        "Delta": {"long_name": "detuning Δ", "units": "Γ"},
                        "JZ": {"long_name": "J𝒵", "units": "Γ"},
                        "m": {"long_name": "x magnetisation per site m"}}.items():
        if name in ds.variables:
            ds[name].attrs.update(attrs)
    ds.attrs["title"] = title
    return ds


def _by_N(opt: dict, progress: bool) -> xr.Dataset:
    """b_x, μ over Δ at one J𝒵 for several N (Fig. 4), and P(M_x) padded to a common
    index k (m = -1 + 2k/N) for the FC scaling."""
    parts = []
    kmax = max(opt["N"]) + 1
    for N in opt["N"]:
        ds = _scan(opt, N, np.linspace(*opt["Delta"]), [opt["JZ"]], progress,
                   keep=("bx", "mux", "muy", "muz", "peak1", "peak2", "converged", "px"))
        ds = ds.squeeze("JZ", drop=True)
        px = np.full((ds.sizes["Delta"], kmax), np.nan)
        px[:, : N + 1] = ds.px.values
        parts.append(ds.drop_vars(["px", "m"]).assign(px=(("Delta", "k"), px)))
    out = xr.concat(parts, dim=xr.DataArray(list(opt["N"]), dims="N", name="N"))
    out = out.assign_coords(m=(("N", "k"), -1 + 2 * np.arange(kmax)[None, :]
                               / np.asarray(opt["N"], float)[:, None]))
    where = "fully connected" if opt["lattice"] == "fc" else "periodic 2D"
    return _labelled(out, f"Exact b_x on {where} clusters N = {opt['N']}, "
                          f"J𝒵 = {opt['JZ']}, Ω = {opt['Omega']}")


def _by_N_sample(ds: xr.Dataset) -> list:
    from . import exact
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    N = int(ds.N[0])
    lat = _lattice(opt["lattice"], N)
    rows = []
    for i in np.linspace(0, ds.sizes["Delta"] - 1, 3).astype(int):
        d = float(ds.Delta[i])
        s = exact.steady_state(Model(Delta=d, Omega=opt["Omega"], J=opt["JZ"] / lat.Z), lat)
        rows.append((f"N = {N}, Δ = {d:.4f}: b_x", float(ds.bx.sel(N=N)[i]),
                     float(s.bimodality), 1e-7))
        rows.append((f"N = {N}, Δ = {d:.4f}: μ_x", float(ds.mux.sel(N=N)[i]),
                     float(s.mu[0]), 1e-8))
    return rows


def _map(opt: dict, progress: bool) -> xr.Dataset:
    """b_x, μ and P(M_x) over a (Δ, J𝒵) grid at one N (Figs. 1b, 1c), plus the P(M_x)
    curves of Fig. 1a when the options name them."""
    ds = _scan(opt, opt["N"], np.linspace(*opt["Delta"]), np.linspace(*opt["JZ"]), progress,
               keep=("bx", "mux", "muy", "muz", "converged", "px"))
    if "curves" in opt:
        c = opt["curves"]
        curves = _scan(opt, c["N"], c["Delta"], [c["JZ"]], progress, keep=("bx", "px"))
        curves = curves.squeeze("JZ", drop=True).rename(
            Delta="Delta_1a", m="m_1a", bx="bx_1a", px="px_1a")
        ds = ds.merge(curves)
    where = "fully connected" if opt["lattice"] == "fc" else "periodic 2D"
    return _labelled(ds, f"Exact b_x over (Δ, J𝒵), {where} N = {opt['N']}, Ω = {opt['Omega']}")


def _map_sample(ds: xr.Dataset) -> list:
    from . import exact
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    lat = _lattice(opt["lattice"], opt["N"])
    rows = []
    i, j = np.argwhere(ds.bx.values == np.nanmax(ds.bx.values))[0]  # the most bimodal point
    for a, b in ((i, j), (0, ds.sizes["JZ"] - 1), (ds.sizes["Delta"] // 2, ds.sizes["JZ"] // 2)):
        d, jz = float(ds.Delta[a]), float(ds.JZ[b])
        s = exact.steady_state(Model(Delta=d, Omega=opt["Omega"], J=jz / lat.Z), lat)
        rows.append((f"Δ = {d:.3f}, J𝒵 = {jz:.2f}: b_x", float(ds.bx[a, b]),
                     float(s.bimodality), 1e-7))
        rows.append((f"Δ = {d:.3f}, J𝒵 = {jz:.2f}: μ_x", float(ds.mux[a, b]),
                     float(s.mu[0]), 1e-8))
    return rows


def _scalars(ds: xr.Dataset, dims: tuple[str, ...]) -> xr.Dataset:
    """The variables of a hysteresis Dataset that live on ``dims`` (or fewer) alone: the
    observables and branch ends (and the η profile only where ``dims`` name its axes)."""
    return ds[[v for v in ds.data_vars if set(ds[v].dims) <= set(dims)]]


def _mfqf_fig3(opt: dict, progress: bool) -> xr.Dataset:
    from . import lattice, sweep
    from .model import Model

    parts = []
    for D, L in zip(opt["D"], opt["L"], strict=True):
        lat = lattice.hypercubic(L, D)
        model = Model(Delta=0.0, Omega=opt["Omega"], J=opt["JZ"] / lat.Z)
        ds = sweep.hysteresis(model, lat, "Delta", np.linspace(*opt["Delta"]),
                              jump=opt["jump"], far_tol=opt["far_tol"], tol=opt["tol"],
                              progress=progress)
        parts.append(_scalars(ds, ("Delta", "direction")).assign_coords(L=L))
    out = xr.concat(parts, dim=xr.DataArray(list(opt["D"]), dims="D", name="D"))
    return _labelled(out, f"MFQF hysteresis in Δ, Ω = {opt['Omega']}, J𝒵 = {opt['JZ']}, "
                          f"periodic L^D lattices L = {opt['L']} (Figs. 3, 8)")


def _mfqf_sample(ds: xr.Dataset, picks) -> list:
    """Cold MFQF steady states at archived points outside the bistable window (one steady
    state there), compared with the archived sweep: μ_x, μ_z and the relaxation rate κ
    (``picks`` holds (selection, model, lattice))."""
    from . import mfqf

    rows = []
    for sel, model, lat in picks:
        s = mfqf.steady_state(model, lat)
        where = ", ".join(f"{k} = {v}" for k, v in sel.items())
        for a in (0, 2):
            rows.append((f"{where}: μ_{'xyz'[a]}", float(ds[f"mu_{'xyz'[a]}"].sel(**sel)),
                         float(s.mu[a]), 1e-6))
        if "kappa" in ds:
            rows.append((f"{where}: κ", float(ds["kappa"].sel(**sel)), float(s.kappa), 1e-6))
    return rows


def _mfqf_fig3_sample(ds: xr.Dataset) -> list:
    from . import lattice
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    picks = []
    # Δ = 2 on 2D: next to the low-Δ branch end, where κ is small and found by shift-invert
    for D, Delta, direction in ((2, float(ds.Delta[0]), "up"), (2, 2.0, "up"),
                                (3, float(ds.Delta[-1]), "down")):
        lat = lattice.hypercubic(opt["L"][opt["D"].index(D)], D)
        picks.append(({"D": D, "Delta": Delta, "direction": direction},
                      Model(Delta=Delta, Omega=opt["Omega"], J=opt["JZ"] / lat.Z), lat))
    return _mfqf_sample(ds, picks)


def _ising(opt: dict, progress: bool) -> xr.Dataset:
    from . import lattice, sweep
    from .model import Model

    lat = lattice.hypercubic(opt["L"], 2)
    parts = {}
    for tag, spec, values in (("", opt["Omega"], opt["JzZ"]),
                              ("_zoom", opt["Omega_zoom"], opt["JzZ"][-1:])):
        runs = []
        for jzz in values:
            model = Model(Delta=opt["Delta"], Omega=1.0, J=jzz / lat.Z, coupling="ising")
            ds = sweep.hysteresis(model, lat, "Omega", np.linspace(*spec), jump=opt["jump"],
                                  tol=opt["tol"], progress=progress)
            runs.append(_scalars(ds, ("Omega", "direction", "a", "b", "R")).assign_coords(
                JzZ=jzz))
        parts[tag] = xr.concat(runs, dim="JzZ")
    zoom = parts["_zoom"].squeeze("JzZ", drop=True)
    zoom = zoom.rename({"Omega": "Omega_zoom", **{v: f"{v}_zoom" for v in zoom.data_vars}})
    out = parts[""].merge(zoom)
    return _labelled(out, f"MFQF Ising model on {opt['L']}^2, Δ = {opt['Delta']}, "
                                      f"J_z𝒵 = {opt['JzZ']} (Figs. 5-7)")


def _ising_sample(ds: xr.Dataset) -> list:
    from . import lattice
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    lat = lattice.hypercubic(opt["L"], 2)
    w, jzz = float(ds.Omega[0]), opt["JzZ"][0]
    model = Model(Delta=opt["Delta"], Omega=w, J=jzz / lat.Z, coupling="ising")
    return _mfqf_sample(ds, [({"JzZ": jzz, "Omega": w, "direction": "up"}, model, lat)])


def _mpo_points(opt: dict, N: int, chi: int, deltas, progress: bool):
    from . import lattice, mpo
    from .model import Model

    model = Model(Delta=0.0, Omega=opt["Omega"], J=opt["JZ"] / 2)  # chain: 𝒵 = 2
    options = mpo.MPOOptions(svd_method="rsvd", tol=opt["tol"], record_every=0.5)
    return mpo.steady_states(model, lattice.chain(N, periodic=False), "Delta", deltas, chi,
                             dt=opt["dt"], t_max=opt["t_max"], options=options,
                             workers=opt.get("workers", 1), progress=progress)


def _mpo_vars(points, dim: str) -> dict:
    c = [p.correlations for p in points]
    return {"mu_x": (dim, [p.mu[0] for p in points]), "mu_y": (dim, [p.mu[1] for p in points]),
            "mu_z": (dim, [p.mu[2] for p in points]),
            "sigma_xx": (dim, [x.sigma_xx for x in c]),
            "lambda_xx": (dim, [x.lambda_xx for x in c]),
            "truncation_error": (dim, [p.truncation_error for p in points]),
            "converged": (dim, [p.converged for p in points])}


def _mpo_fig2(opt: dict, progress: bool) -> xr.Dataset:
    points = _mpo_points(opt, opt["N"], opt["chi"], opt["Delta"], progress)
    small = _mpo_points(opt, opt["check_N"], opt["check_chi"], [opt["check_Delta"]], False)
    ds = xr.Dataset(_mpo_vars(points, "Delta"), coords={"Delta": opt["Delta"]})
    check = {f"check_{k}": v[1][0] for k, v in _mpo_vars(small, "x").items()}
    ds = ds.assign(**{k: ((), v) for k, v in check.items()})
    ds["Delta"].attrs.update(long_name="detuning Δ", units="Γ")
    ds.attrs["title"] = (f"MPO steady states of the open chain N = {opt['N']}, χ = {opt['chi']}, "
                         f"central sites; Ω = {opt['Omega']}, J𝒵 = {opt['JZ']} (Fig. 2)")
    return ds


def _mpo_fig2_sample(ds: xr.Dataset) -> list:
    opt = json.loads(ds.attrs["options"])
    (p,) = _mpo_points(opt, opt["check_N"], opt["check_chi"], [opt["check_Delta"]], False)
    where = f"N = {opt['check_N']}, χ = {opt['check_chi']}, Δ = {opt['check_Delta']}"
    return [(f"{where}: μ_x", float(ds.check_mu_x), float(p.mu[0]), 1e-6),
            (f"{where}: μ_z", float(ds.check_mu_z), float(p.mu[2]), 1e-6),
            (f"{where}: Σ_xx", float(ds.check_sigma_xx), float(p.correlations.sigma_xx), 1e-5)]



def _window_sweep(lat, model, values, opt: dict, progress: bool) -> xr.Dataset:
    """One hysteresis sweep in Δ of the window entries (no far_tol: a branch ends where its
    stable state ends), branch ends bisected to ``opt["tol"]``, reduced to scalars plus the
    leading eigenvalue of the MF Jacobian at μ: the uniform (k = 0) correlator mode."""
    from . import meanfield, sweep

    ds = sweep.hysteresis(model, lat, "Delta", values, jump=opt["jump"], tol=opt["tol"],
                          progress=progress)
    out = _scalars(ds, ("Delta", "direction")).drop_vars(["message", "end_message"],
                                                         errors="ignore")
    def lam0(mu, delta):  # the MF Jacobian at μ, with the point's own Δ
        if not np.all(np.isfinite(mu)):
            return np.nan
        jac = meanfield.jacobian(mu, model.replace(Delta=float(delta)), lat)
        return float(np.linalg.eigvals(jac).real.max())

    mu = np.stack([ds[f"mu_{c}"].transpose("Delta", "direction").values for c in "xyz"], -1)
    out["lam0"] = (("Delta", "direction"),
                   [[lam0(mu[i, j], d) for j in range(ds.sizes["direction"])]
                    for i, d in enumerate(ds.Delta.values)])
    out["end_lam0"] = ("direction", [
        lam0(np.array([float(ds[f"end_mu_{c}"].sel(direction=w)) for c in "xyz"]),
             float(ds.branch_end.sel(direction=w))) for w in ds.direction.values])
    return out, ds


def _window_vs_L(opt: dict, progress: bool) -> xr.Dataset:
    """Both branches against Δ on L^D lattices of growing L (Fig. 3's window as L → ∞), the
    η_xx profile along an axis at one probe Δ, and MFQF time evolution into the long-range
    state (3D) from the decaying state at ``dyn["from"]``."""
    from . import lattice, mfqf
    from .model import Model

    values = np.linspace(*opt["Delta"])
    parts, profiles = [], []
    rmax = max(L // 2 for _, L in opt["cases"]) + 1
    for D, L in opt["cases"]:
        lat = lattice.hypercubic(L, D)
        model = Model(Delta=0.0, Omega=opt["Omega"], J=opt["JZ"] / lat.Z)
        out, ds = _window_sweep(lat, model, values, opt, progress)
        parts.append(out.assign_coords(D=D, L=L, N=lat.N))
        probe = opt["probe"][str(D)]
        prof = np.full(rmax, np.nan)
        prof[:L // 2 + 1] = ds.eta_axis.sel(a="x", b="x", direction="up").sel(
            Delta=probe, method="nearest").values
        profiles.append(prof)
    out = xr.concat(parts, dim="case", coords="different", compat="equals")
    out["eta_xx_probe"] = (("case", "R"), np.array(profiles))
    out["probe"] = ("case", [opt["probe"][str(D)] for D, _ in opt["cases"]])
    dyn = opt["dyn"]
    times = np.linspace(0.0, dyn["t_final"], dyn["n_times"])
    traj, finals = [], []
    for L in dyn["L"]:
        lat = lattice.hypercubic(L, 3)
        model = Model(Delta=0.0, Omega=opt["Omega"], J=opt["JZ"] / lat.Z)
        steps = mfqf.SteadyOptions(require_stable=True)
        s = mfqf.steady_state(model.replace(Delta=dyn["path"][0]), lat)
        for d in dyn["path"][1:]:
            s = mfqf.steady_state(model.replace(Delta=d), lat, s, options=steps)
        ev = mfqf.evolve(model.replace(Delta=dyn["to"]), lat, dyn["t_final"], (s.mu, s.eta),
                         times=times)
        if not ev.success:
            raise RuntimeError(f"evolution on {L}^3 failed: {ev.message}")
        half = (L // 2,) * 3
        traj.append(ev.mu)
        finals.append([float(np.abs(ev.eta[(slice(None), slice(None)) + half]).max()),
                       float(ev.eta[0, 0].sum() / lat.N), float(s.mu[0])])
    finals = np.array(finals)
    out = out.assign(
        dyn_mu=(("L_dyn", "t", "xyz"), np.array(traj)),
        dyn_eta_far=("L_dyn", finals[:, 0]), dyn_sigma_xx_per_N=("L_dyn", finals[:, 1]),
        dyn_start_mu_x=("L_dyn", finals[:, 2]))
    out = out.assign_coords(L_dyn=list(dyn["L"]), t=times, xyz=["x", "y", "z"],
                            R=np.arange(rmax))
    return _labelled(out, f"MFQF hysteresis in Δ without far_tol on L^D = {opt['cases']}, "
                          f"Ω = {opt['Omega']}, J𝒵 = {opt['JZ']}; MFQF dynamics into the "
                          f"long-range state (3D, Δ = {dyn['from']} → {dyn['to']})")


def _window_sample(ds: xr.Dataset, case: int, Delta: float, direction: str) -> list:
    from . import lattice
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    D, L = int(ds.D[case]), int(ds.L[case])
    lat = lattice.hypercubic(L, D)
    model = Model(Delta=Delta, Omega=opt["Omega"], J=opt["JZ"] / lat.Z)
    rows = _mfqf_sample(ds.isel(case=case), [({"Delta": Delta, "direction": direction},
                                              model, lat)])
    return [(f"{L}^{D}, {label}", a, r, tol) for label, a, r, tol in rows]


def _window_vs_L_sample(ds: xr.Dataset) -> list:
    return _window_sample(ds, 0, float(ds.Delta[0]), "up")


def _windows_over(opt: dict, progress: bool) -> xr.Dataset:
    """Window sweeps (``opt["runs"]``: D, L, J𝒵 and the Δ interval of each), each on its own Δ
    grid of ``opt["n"]`` points (stored as ``Delta_grid``), as one Dataset on index ``s``."""
    from . import lattice
    from .model import Model

    parts = []
    for spec in opt["runs"]:
        lat = lattice.hypercubic(spec["L"], spec["D"])
        model = Model(Delta=0.0, Omega=opt["Omega"], J=spec["JZ"] / lat.Z)
        values = np.linspace(spec["lo"], spec["hi"], spec.get("n", opt["n"]))
        out, _ = _window_sweep(lat, model, values, {**opt, **spec}, progress)
        out = out.rename(Delta="s").assign_coords(s=np.arange(values.size))
        parts.append(out.assign(Delta_grid=("s", values)).assign_coords(
            D=spec["D"], L=spec["L"], N=lat.N, JZ=spec["JZ"]))
    return xr.concat(parts, dim="run", coords="different", compat="equals", join="outer")


def _bistable_map(opt: dict, progress: bool) -> xr.Dataset:
    out = _windows_over(opt, progress)
    return _labelled(out, f"MFQF bistable windows in Δ over J𝒵 on 2D and 3D periodic lattices, "
                          f"Ω = {opt['Omega']} (beyond the paper)")


def _window_vs_D(opt: dict, progress: bool) -> xr.Dataset:
    out = _windows_over(opt, progress)
    return _labelled(out, f"MFQF bistable window in Δ at J𝒵 = {opt['runs'][0]['JZ']} on "
                          f"periodic hypercubes D = 2 … 5, Ω = {opt['Omega']} (beyond the "
                          "paper)")


def _windows_sample(ds: xr.Dataset) -> list:
    """Cold steady states at the first grid point of the first run (the low-Δ side, below
    any window) and at the last point of the last run (high-Δ side)."""
    from . import lattice
    from .model import Model

    opt = json.loads(ds.attrs["options"])
    rows = []
    last = opt["runs"][-1]
    for run, s, direction in ((0, 0, "up"), (len(opt["runs"]) - 1, last.get("n", opt["n"]) - 1,
                                             "down")):
        spec = opt["runs"][run]
        lat = lattice.hypercubic(spec["L"], spec["D"])
        d = float(ds.Delta_grid.isel(run=run, s=s))
        model = Model(Delta=d, Omega=opt["Omega"], J=spec["JZ"] / lat.Z)
        got = _mfqf_sample(ds.isel(run=run), [({"s": s, "direction": direction}, model, lat)])
        where = f"{spec['L']}^{spec['D']}, J𝒵 = {spec['JZ']}, Δ = {d:.3f}"
        rows += [(f"{where}: {label.rsplit(': ', 1)[1]}", a, r, tol) for label, a, r, tol in got]
    return rows


def _map_runs(Ls: dict, JZ: list) -> list:
    """Search intervals of the (Δ, J𝒵) map from the MF window (MFQF's lies at larger Δ)."""
    runs = []
    for D, L in Ls.items():
        for jz in JZ:
            lo, hi = 0.5 * jz - 0.5, jz - 1.2
            runs.append({"D": int(D), "L": L, "JZ": jz, "lo": lo, "hi": hi})
    return runs


def _mpo_ladder(opt: dict, Delta: float, N, chis, given: dict | None = None) -> dict:
    """Central μ, λ_xx, Σ_xx (and discarded weight, stationarity, seconds) of the open chain
    of ``N`` sites, or of the ``N = (Lx, Ly)`` cylinder, at each χ of ``chis``
    (``mpo.chi_ladder``: each χ warm-started from the previous one), cached per (Δ, N) as
    plain numbers; also the spread of μ over the central column(s) (App. C's check), the
    final |dμ/dt| and the time spent at each χ; on a cylinder also ``profile``, μ averaged
    over each column. ``opt["keep_states"]`` keeps each χ's final MPS as a checkpoint, so
    that a longer ladder later resumes from it. ``given`` (:func:`adopt`): these values,
    stored under the ladder's key where the cache holds nothing for it, instead of a
    computation."""
    from . import lattice, mpo
    from .cache import cached
    from .model import Model

    cylinder = np.ndim(N) != 0
    if not cylinder:
        model = Model(Delta=Delta, Omega=opt["Omega"], J=opt["JZ"] / 2)  # chain: 𝒵 = 2
        lat = lattice.chain(int(N), periodic=False)
    else:
        model = Model(Delta=Delta, Omega=opt["Omega"], J=opt["JZ"] / 4)  # cylinder: 𝒵 = 4
        lat = lattice.cylinder(*(int(n) for n in N))
    options = mpo.MPOOptions(svd_method="rsvd", tol=opt["tol"], record_every=0.5,
                             keep_checkpoints=bool(opt.get("keep_states", False)))

    def compute():
        points = mpo.chi_ladder(model, lat, chis, dt=opt["dt"], t_max=opt["t_max"],
                                options=options)
        out = {k: [float(v) for v in np.asarray(v[1])] for k, v in _mpo_vars(points, "x").items()}
        out["wall_time"] = [float(p.wall_time) for p in points]
        out["spread"] = [float(np.ptp(p.mu_sites[p.evolution.center_sites], axis=0).max())
                         for p in points]
        out["drift"] = [float(p.drift) for p in points]
        out["t_at_chi"] = [float(p.stages[-1]["t"]) for p in points]
        if cylinder:  # μ averaged over each column, from one open end to the other
            x = lat.coords[:, 0]
            out["profile"] = [[np.asarray(p.mu_sites)[x == c].mean(0).tolist()
                               for c in range(int(N[0]))] for p in points]
        return out

    return cached("mpo.chi_ladder", compute if given is None else lambda: given,
                  solver="ddlib.mpo", model=model, lattice=lat,
                  chis=list(chis), dt=opt["dt"], t_max=opt["t_max"], options=options,
                  **({"record": 2} if cylinder else {}))


#: What one cylinder ladder (:func:`_mpo_ladder`) returns per rung, as archived.
_LADDER_VARS = ("mu_x", "mu_y", "mu_z", "spread", "sigma_xx", "lambda_xx", "truncation_error",
                "converged", "drift", "t_at_chi", "wall_time")
#: Labels shared by the MPO ladder entries (mpo_convergence, cylinder_convergence).
_LADDER_ATTRS = {"Delta": {"long_name": "detuning Δ", "units": "Γ"},
                 "chi": {"long_name": "bond dimension χ"},
                 "wall_time": {"long_name": "wall time of the point (its ladder step)",
                               "units": "s"}}


def _mpo_convergence(opt: dict, progress: bool) -> xr.Dataset:
    from tqdm import tqdm

    names = ("mu_x", "mu_y", "mu_z", "sigma_xx", "lambda_xx", "truncation_error", "converged",
             "wall_time")
    shape = (len(opt["Delta"]), len(opt["N"]), len(opt["chi"]))
    data = {k: np.full(shape, np.nan) for k in names}
    jobs = [(a, b) for a in range(shape[0]) for b in range(shape[1])]
    for a, b in tqdm(jobs, desc="MPO convergence (Δ, N)", disable=not progress):
        ladder = _mpo_ladder(opt, opt["Delta"][a], opt["N"][b], opt["chi"])
        for k in names:
            data[k][a, b] = ladder[k]
    dims = ("Delta", "N", "chi")
    ds = xr.Dataset({k: (dims, v) for k, v in data.items()},
                    coords={"Delta": opt["Delta"], "N": opt["N"], "chi": opt["chi"]})
    ds["converged"] = ds.converged.astype(bool)
    for name, attrs in {**_LADDER_ATTRS, "N": {"long_name": "chain length N"}}.items():
        ds[name].attrs.update(attrs)
    ds.attrs["title"] = (f"MPO convergence of the open chain's central observables in N and χ, "
                         f"Ω = {opt['Omega']}, J𝒵 = {opt['JZ']}; reference: the largest (N, χ)")
    return ds


def _mpo_convergence_sample(ds: xr.Dataset) -> list:
    opt = json.loads(ds.attrs["options"])
    N, chi, Delta = opt["check_N"], opt["check_chi"], opt["check_Delta"]
    ladder = _mpo_ladder(opt, Delta, N, [chi])
    where = f"N = {N}, χ = {chi}, Δ = {Delta}"
    point = ds.sel(Delta=Delta, N=N, chi=chi)
    return [(f"{where}: μ_x", float(point.mu_x), ladder["mu_x"][0], 1e-6),
            (f"{where}: μ_z", float(point.mu_z), ladder["mu_z"][0], 1e-6),
            (f"{where}: Σ_xx", float(point.sigma_xx), ladder["sigma_xx"][0], 1e-5)]


def _cylinder_convergence(opt: dict, progress: bool) -> xr.Dataset:
    from tqdm import tqdm

    names = _LADDER_VARS
    cases = [tuple(c) for c in opt["cases"]]
    deltas = sorted(opt["Delta"])
    ladder_of = _ladder_chis(opt)
    chis = sorted(set().union(*ladder_of.values()))
    rungs_of = {d: [chis.index(c) for c in ladder] for d, ladder in ladder_of.items()}
    shape = (len(deltas), len(cases), len(chis))
    data = {k: np.full(shape, np.nan) for k in names}
    # in the recipe's order (the first Δ first), each ladder cached and its rungs checkpointed
    jobs = [(deltas.index(d), b) for d in opt["Delta"] for b in range(shape[1])]
    workers = min(int(opt.get("workers", 1)), len(jobs))
    args = [(opt, deltas[a], cases[b], ladder_of[deltas[a]]) for a, b in jobs]
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from .mpo import _one_thread  # the initializer mpo.steady_states uses

        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_one_thread) as pool:
            futures = [pool.submit(_mpo_ladder, *a) for a in args]
            ladders = [f.result() for f in tqdm(futures, desc="MPO cylinder ladders (Δ, Lx × Ly)",
                                                disable=not progress)]
    else:
        ladders = [_mpo_ladder(*a) for a in tqdm(args, desc="MPO cylinder ladders (Δ, Lx × Ly)",
                                                 disable=not progress)]
    for (a, b), ladder in zip(jobs, ladders, strict=True):
        for k in names:
            data[k][a, b, rungs_of[deltas[a]]] = ladder[k]
    (small,) = _cylinder_check(opt)
    profile = None
    if all("profile" in ladder for ladder in ladders):  # ladders cached before: none
        profile = np.full(shape + (max(c[0] for c in cases), 3), np.nan)
        for (a, b), ladder in zip(jobs, ladders, strict=True):
            prof = np.asarray(ladder["profile"], dtype=float)  # (chi, Lx, 3)
            profile[a, b, rungs_of[deltas[a]], :prof.shape[1]] = prof
    dims = ("Delta", "case", "chi")
    ds = xr.Dataset({k: (dims, v) for k, v in data.items()},
                    coords={"Delta": deltas, "chi": chis,
                            "Lx": ("case", [c[0] for c in cases]),
                            "Ly": ("case", [c[1] for c in cases])})
    ds["converged"] = ds.converged == 1  # a rung not computed (NaN) is not converged
    ds = ds.assign(**{f"check_{k}": ((), small[k][0]) for k in ("mu_x", "mu_z", "sigma_xx")})
    if profile is not None:
        ds["profile"] = (dims + ("column", "component"), profile)
        ds = ds.assign_coords(column=np.arange(profile.shape[3]), component=["x", "y", "z"])
        ds["profile"].attrs["long_name"] = ("μ averaged over each column of the cylinder, "
                                            "from one open end (NaN past L_x)")
    # the ladders' own wall times, whichever run (or session) computed them
    ds.attrs["points_wall_time_s"] = float(np.nansum(data["wall_time"]))
    for name, attrs in {**_LADDER_ATTRS,
                        "Lx": {"long_name": "cylinder length L_x (open)"},
                        "Ly": {"long_name": "cylinder circumference L_y (periodic)"},
                        "spread": {"long_name": "largest spread of μ_a over the central "
                                                "column(s)"},
                        "drift": {"long_name": "|dμ/dt| of the central μ at the stop",
                                  "units": "Γ"},
                        "t_at_chi": {"long_name": "time evolved at this χ", "units": "1/Γ"}
                        }.items():
        ds[name].attrs.update(attrs)
    ds.attrs["title"] = (f"MPO convergence of the cylinder's central observables in L_x and χ, "
                         f"Ω = {opt['Omega']}, J𝒵 = {opt['JZ']} (J = J𝒵/4)")
    return ds


def _ladder_chis(opt: dict) -> dict[float, list[int]]:
    """The χ ladder of each Δ of a cylinder recipe: ``opt["chi"]``, extended at the Δ named in
    ``opt["chi_more"]`` (``{"1.75": [256]}``: rungs computed only where the shorter ladder
    is not yet converged; the other Δ are NaN there)."""
    more = opt.get("chi_more", {})
    deltas = {f"{float(d):g}": float(d) for d in opt["Delta"]}
    unknown = sorted(set(more) - set(deltas))
    if unknown:
        raise ValueError(f"chi_more: {unknown} are not among the recipe's Delta "
                         f"{sorted(deltas)}")
    base = [int(c) for c in opt["chi"]]
    low = sorted(int(c) for extra in more.values() for c in extra if int(c) <= max(base))
    if low:
        raise ValueError(f"chi_more: {low} must exceed the ladder's largest χ {max(base)} "
                         f"(a ladder climbs: each rung starts from the one below)")
    return {d: base + sorted(int(c) for c in more.get(k, [])) for k, d in deltas.items()}


def _cylinder_check(opt: dict) -> list:
    return [_mpo_ladder({**opt, "keep_states": False}, opt["check_Delta"],
                        tuple(opt["check_case"]), [opt["check_chi"]])]


def _cylinder_convergence_sample(ds: xr.Dataset) -> list:
    opt = json.loads(ds.attrs["options"])
    (p,) = _cylinder_check(opt)
    where = (f"{opt['check_case'][0]} × {opt['check_case'][1]} cylinder, "
             f"χ = {opt['check_chi']}, Δ = {opt['check_Delta']}")
    return [(f"{where}: μ_x", float(ds.check_mu_x), p["mu_x"][0], 1e-6),
            (f"{where}: μ_z", float(ds.check_mu_z), p["mu_z"][0], 1e-6),
            (f"{where}: Σ_xx", float(ds.check_sigma_xx), p["sigma_xx"][0], 1e-5)]


#: The open chain's (N, χ) grid and options shared by mpo_convergence and
#: mpo_convergence_high (each adds its detunings and the Δ of its freshness check).
_CHAIN_STUDY = {"Omega": 0.5, "JZ": 4.0, "dt": 0.25, "t_max": 60.0, "tol": 1e-4,
                "N": [16, 24, 40, 80, 200], "chi": [16, 32, 64, 128, 300],
                "check_N": 16, "check_chi": 16}

ENTRIES: dict[str, Entry] = {e.name: e for e in [
    Entry("mf_response", "Figs. 1b/c (white lines), 2a, 3a, 8 (MF curves)",
          "Mean-field response curve μ(Δ) with every branch (stable and unstable) at Ω = 0.5, "
          "J𝒵 = 4, and the MF bistability edges Δ±(J𝒵) for the (Δ, J𝒵) maps.",
          ("ddlib.meanfield",),
          {"Omega": 0.5, "JZ": 4.0, "Delta": [0.0, 6.0], "n": 20001, "JZ_map": [0.0, 10.0, 1001]},
          _mf_response, _mf_response_sample),
    Entry("fig1_fc", "Figs. 1a, 1b",
          "Exact steady states on the fully connected graph: P(M_x) for N = 10 at J𝒵 = 6 and "
          "five detunings (Fig. 1a); b_x, μ and P(M_x) of N = 8 over 0 ≤ Δ ≤ 8 (161) × "
          "0 ≤ J𝒵 ≤ 10 (51) (Fig. 1b).",
          ("ddlib.exact",),
          {"lattice": "fc", "N": 8, "Omega": 0.5, "Delta": [0.0, 8.0, 161],
           "JZ": [0.0, 10.0, 51],
           "curves": {"N": 10, "JZ": 6.0, "Delta": [3.0, 3.5, 3.75, 4.0, 4.5]}},
          _map, _map_sample),
    Entry("fig1c_2d", "Fig. 1c",
          "Exact b_x, μ and P(M_x) on the periodic 2D cluster N = 8 over 1 ≤ Δ ≤ 6 (101) × "
          "0 ≤ J𝒵 ≤ 7 (36).",
          ("ddlib.exact",),
          {"lattice": "2d", "N": 8, "Omega": 0.5, "Delta": [1.0, 6.0, 101],
           "JZ": [0.0, 7.0, 36]},
          _map, _map_sample),
    Entry("fig4_fc", "Fig. 4a",
          "Exact b_x(Δ) on fully connected clusters N = 8, 9, 10 at J𝒵 = 6, Ω = 0.5 "
          "(161 detunings in 2.5 ≤ Δ ≤ 5).",
          ("ddlib.exact",),
          {"lattice": "fc", "N": [8, 9, 10], "JZ": 6.0, "Omega": 0.5, "Delta": [2.5, 5.0, 161]},
          _by_N, _by_N_sample),
    Entry("fig4_2d", "Fig. 4b",
          "Exact b_x(Δ) on periodic 2D clusters N = 8, 9, 10 at J𝒵 = 5, Ω = 0.5 "
          "(61 detunings in 2 ≤ Δ ≤ 5).",
          ("ddlib.exact",),
          {"lattice": "2d", "N": [8, 9, 10], "JZ": 5.0, "Omega": 0.5, "Delta": [2.0, 5.0, 61]},
          _by_N, _by_N_sample),
    Entry("fc_scaling", "beyond the paper (App. A's question at large N)",
          "Exact b_x, the peaks of P(M_x) and P(M_x) itself on fully connected clusters "
          "N = 10 … 100 at J𝒵 = 6, Ω = 0.5 (21 detunings in 2.9 ≤ Δ ≤ 3.9).",
          ("ddlib.exact",),
          {"lattice": "fc", "N": [10, 20, 30, 40, 60, 80, 100], "JZ": 6.0, "Omega": 0.5,
           "Delta": [2.9, 3.9, 21]},
          _by_N, _by_N_sample),
    Entry("fig3_mfqf", "Figs. 2a (MFQF 1D), 3, 8",
          "MFQF steady states swept up and down in Δ (hysteresis, each sweep on its stable "
          "branch, branch ends bisected to 1e-4) at Ω = 0.5, J𝒵 = 4 on periodic lattices "
          "400 (1D), 200² (2D) and 40³ (3D), 121 detunings in 0.5 ≤ Δ ≤ 3.5: μ, κ, Σ_ab, λ_ab.",
          ("ddlib.mfqf",),
          {"D": [1, 2, 3], "L": [400, 200, 40], "Omega": 0.5, "JZ": 4.0,
           "Delta": [0.5, 3.5, 121], "jump": 0.15, "far_tol": 0.01, "tol": 1e-4},
          _mfqf_fig3, _mfqf_fig3_sample),
    Entry("fig5_7_ising", "Figs. 5, 6, 7",
          "MFQF for the Ising coupling on the periodic 100² lattice at Δ = 0, swept up and "
          "down in Ω (0.5 ≤ Ω ≤ 2.5, 201 points) at J_z𝒵 = -4 and -6, and a zoom on the "
          "bistable window at -6 (1.95 ≤ Ω ≤ 2.25, 121 points): μ, κ, Σ_ab, λ_ab, η_zz(R).",
          ("ddlib.mfqf",),
          {"L": 100, "Delta": 0.0, "JzZ": [-4.0, -6.0], "Omega": [0.5, 2.5, 201],
           "Omega_zoom": [1.95, 2.25, 121], "jump": 0.15, "tol": 1e-4},
          _ising, _ising_sample),
    Entry("fig2_mpo", "Fig. 2 (MPO curves)",
          "MPO steady states of the open chain at the paper's accuracy on the central sites "
          "(N = 80, χ = 64: within 1e-3 in μ and 2 % in Σ_xx of N = 200, χ = 300; "
          "benchmarks/README.md), Ω = 0.5, J𝒵 = 4, the paper profile's 12 detunings: central "
          "μ, Σ_xx, λ_xx, discarded weight; plus one small point (N = 16, χ = 16) that the "
          "freshness check recomputes.",
          ("ddlib.mpo",),
          {"N": 80, "chi": 64, "Omega": 0.5, "JZ": 4.0, "dt": 0.25, "t_max": 60.0, "tol": 1e-4,
           "Delta": [0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0],
           "check_N": 16, "check_chi": 16, "check_Delta": 2.0, "workers": 2},
          _mpo_fig2, _mpo_fig2_sample),
    Entry("window_vs_L", "Fig. 3 (the window as L → ∞; beyond the paper)",
          "MFQF hysteresis in Δ (stable states only, no far_tol; branch ends bisected to 1e-3) "
          "at Ω = 0.5, J𝒵 = 4 on 12³, 20³, 30³, 40³ and 40², 100², 200², 46 detunings in "
          "1.5 ≤ Δ ≤ 2.4: μ, κ, Σ_ab, λ_ab, |η| at (L/2, …), the MF Jacobian's leading "
          "eigenvalue at μ (the k = 0 correlator mode), η_xx along an axis at one Δ; and MFQF "
          "time evolution on 12³, 20³, 30³ from the decaying state at Δ = 1.8 quenched to "
          "Δ = 2.0.",
          ("ddlib.mfqf", "ddlib.meanfield"),
          {"cases": [[3, 12], [3, 20], [3, 30], [3, 40], [2, 40], [2, 100], [2, 200]],
           "Omega": 0.5, "JZ": 4.0, "Delta": [1.5, 2.4, 46], "jump": 0.15, "tol": 1e-3,
           "probe": {"2": 2.2, "3": 2.0},
           "dyn": {"L": [12, 20, 30], "path": [1.5, 1.55, 1.6, 1.65, 1.7, 1.75, 1.8],
                   "from": 1.8, "to": 2.0, "t_final": 900.0, "n_times": 181}},
          _window_vs_L, _window_vs_L_sample),
    Entry("bistable_map", "beyond the paper (Fig. 3 at other J𝒵)",
          "MFQF bistable windows in Δ (hysteresis up and down, stable states only, branch ends "
          "bisected to 2e-3) at Ω = 0.5 for J𝒵 = 3, 4, 5, 6, 8 on the periodic 64² and 16³ "
          "lattices, and at J𝒵 = 6 on 24³ (convergence in L); 25 detunings per sweep in "
          "0.5 J𝒵 − 0.5 ≤ Δ ≤ J𝒵 − 1.2.",
          ("ddlib.mfqf", "ddlib.meanfield"),
          {"Omega": 0.5, "n": 25, "jump": 0.15, "tol": 2e-3,
           "runs": _map_runs({2: 64, 3: 16}, [3.0, 4.0, 5.0, 6.0, 8.0])
           + _map_runs({3: 24}, [6.0])},
          _bistable_map, _windows_sample),
    Entry("window_vs_D", "beyond the paper (Fig. 3 in D = 2 … 5)",
          "MFQF bistable window in Δ at Ω = 0.5, J𝒵 = 4 on periodic hypercubes D = 2 … 5 "
          "(two L per D: 100², 200², 20³, 30³, 8⁴, 12⁴, 6⁵, 8⁵), hysteresis up and down, "
          "stable states only; D = 4, 5: 25 detunings in 1.2 ≤ Δ ≤ 2.4, branch ends bisected "
          "to 2e-3; D = 2, 3: window_vs_L's sweeps (1e-3), whose cached points they share.",
          ("ddlib.mfqf", "ddlib.meanfield"),
          {"Omega": 0.5, "n": 25, "jump": 0.15, "tol": 1e-3,
           "runs": [{"D": D, "L": L, "JZ": 4.0, "lo": 1.5, "hi": 2.4, "n": 46}
                    for D, L in ((2, 100), (2, 200), (3, 20), (3, 30))]  # = window_vs_L's
           + [{"D": D, "L": L, "JZ": 4.0, "lo": 1.2, "hi": 2.4, "tol": 2e-3}
              for D, L in ((4, 8), (4, 12), (5, 6), (5, 8))]},
          _window_vs_D, _windows_sample),
    Entry("mpo_convergence", "Fig. 2 (accuracy of the MPO curves)",
          "Central μ, λ_xx and Σ_xx of the open chain at Ω = 0.5, J𝒵 = 4 for N = 16 … 200 and "
          "χ = 16 … 300 at Δ = 2 (the 1D crossover) and Δ = 0.5, 1, 1.5 and 2.5, across "
          "the detunings of Fig. 2 on both sides of it; "
          "each N a χ ladder (mpo.chi_ladder, fast route, δt = 0.25, order 4, stationary to "
          "1e-4); the reference is the largest (N, χ), the paper's N = 200, χ = 300. The "
          "freshness check recomputes N = 16, χ = 16 at Δ = 2.",
          ("ddlib.mpo",),
          {**_CHAIN_STUDY, "Delta": [2.0, 1.0, 0.5, 1.5, 2.5], "check_Delta": 2.0},
          _mpo_convergence, _mpo_convergence_sample),
    Entry("mpo_convergence_high", "Fig. 2 (accuracy of the MPO curves at Δ ≥ 3)",
          "The study of mpo_convergence (same grid, options and reference) at Δ = 3, 3.5, 4 "
          "and 5, the detunings of Fig. 2 above 2.5, where the correlations are shortest; "
          "its own entry so that neither remakes the other. The freshness check recomputes "
          "N = 16, χ = 16 at Δ = 3.",
          ("ddlib.mpo",),
          {**_CHAIN_STUDY, "Delta": [3.0, 3.5, 4.0, 5.0], "check_Delta": 3.0},
          _mpo_convergence, _mpo_convergence_sample),
    Entry("cylinder_convergence", "Figs. 3a, 8 (the 2D MPO points and their accuracy)",
          "Central μ, its spread over the central columns (App. C's translation check), λ_xx "
          "and Σ_xx of the 12 × 4 cylinder at Ω = 0.5, J𝒵 = 4 (J = 1) at the detunings of the "
          "paper's 2D MPO points (Δ = 1 and 3, the two sides of the paper's claim, and 1.75, "
          "where the paper went to χ = 600; 1.5, 2 and 2.5 across the 2D MFQF window), "
          "each a χ ladder (mpo.chi_ladder, fast route, δt = 0.25, order 4, stationary to "
          "1e-4, each stage at most t = 40), each χ's final state kept so that a longer "
          "ladder, or another Δ appended to the recipe, resumes from what is done. The "
          "freshness check recomputes the 3 × 4 cylinder at χ = 16.",
          ("ddlib.mpo",),
          {"Omega": 0.5, "JZ": 4.0, "dt": 0.25, "t_max": 40.0, "tol": 1e-4,
           "Delta": [1.0, 3.0, 1.75, 2.5, 1.5, 2.0], "cases": [[12, 4]],
           "chi": [16, 32, 64, 128], "chi_more": {"1.5": [256, 400], "1.75": [256, 400]},
           "keep_states": True, "workers": 2,
           "check_case": [3, 4], "check_chi": 16, "check_Delta": 1.75},
          _cylinder_convergence, _cylinder_convergence_sample),
    Entry("cylinder_length", "App. C (cylinders of length L_x = 8 to 16)",
          "The same observables as cylinder_convergence on cylinders of length L_x = 8, 12 "
          "and 16 and circumference 4 at Ω = 0.5, J𝒵 = 4 (J = 1), at Δ = 1 and 3, where "
          "the 12 × 4 ladder is converged at χ = 64 (the paper: χ needed at fixed accuracy "
          "constant in L_x), and at 1.5 and 2.5, the edges of the paper's agreement with "
          "MFQF: how much of the bulk a 12 × 4 cylinder shows. Each a χ ladder to χ = 128, "
          "the χ at which cylinder_convergence puts every 12 × 4 point within 1e-3 "
          "(mpo.chi_ladder, fast route, δt = 0.25, order 4, stationary to 1e-4, each stage at "
          "most t = 40), each χ's final state kept. The freshness check recomputes the 3 × 4 "
          "cylinder at χ = 16.",
          ("ddlib.mpo",),
          {"Omega": 0.5, "JZ": 4.0, "dt": 0.25, "t_max": 40.0, "tol": 1e-4,
           "Delta": [1.0, 3.0, 1.5, 2.5], "cases": [[8, 4], [12, 4], [16, 4]],
           "chi": [16, 32, 64, 128],
           "keep_states": True, "workers": 2,
           "check_case": [3, 4], "check_chi": 16, "check_Delta": 1.75},
          _cylinder_convergence, _cylinder_convergence_sample),
]}


# ----------------------------------------------------------------------------- commands

def _names(names) -> list[str]:
    names = list(ENTRIES) if not names else list(names)
    for n in names:
        _path(n, None)  # validates the name
    return names


def _make_one(name: str, directory: str, command: str, progress: bool) -> str:
    entry = ENTRIES[name]
    # the code and commit that compute it, read before the work: a long make must not
    # credit its results to code edited while it ran
    attrs = provenance(command=command, solvers=entry.solvers, options=entry.options)
    t0 = time.perf_counter()
    ds = entry.compute(entry.options, progress)
    attrs["wall_time_s"] = time.perf_counter() - t0
    ds.attrs.update(entry=name, figure=entry.figure, description=entry.description, **attrs)
    return str(save(ds, _path(name, Path(directory))))


def compute_time(ds: xr.Dataset) -> float:
    """Seconds an archived entry cost: its make's wall time, or, where the entry records it
    (``points_wall_time_s``, else a per-point ``wall_time`` variable), the summed wall time
    of its points when they were computed, whichever is larger (a make that resumes from
    cached points takes seconds).

    Raises ``TypeError`` when ``ds`` is not a dataset and ``ValueError`` when it records no
    wall time."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset (an archived entry), got "
                        f"{type(ds).__name__}")
    points = ds.attrs.get("points_wall_time_s")
    if points is None and "wall_time" in ds:
        points = np.nansum(ds["wall_time"].values)
    whole = ds.attrs.get("wall_time_s")
    if whole is None and points is None:
        raise ValueError("ds records no wall time: neither a 'wall_time_s' (or "
                         "'points_wall_time_s') attribute nor a 'wall_time' variable")
    try:
        return max(float(0.0 if whole is None else whole), float(points or 0.0))
    except (TypeError, ValueError):
        raise ValueError(f"ds's wall times must be numbers, got wall_time_s={whole!r}, "
                         f"points={points!r}") from None


def make(names: Sequence[str] | None = None, *, workers: int = 1,
         directory: str | Path | None = None, progress: bool = True) -> list[Path]:
    """(Re)make archive entries; points already cached (:mod:`ddlib.cache`) are not recomputed,
    so an interrupted run resumes.

    Parameters
    ----------
    names : sequence of str, optional
        Entries to make (default: all).
    workers : int
        Worker processes (entries run in parallel, one BLAS thread each).
    directory : path, optional
        Default :func:`archive_dir`.
    """
    names = _names(names)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    directory = str(directory or archive_dir())
    command = "python -m ddlib.archive make " + " ".join(names)
    if workers == 1 or len(names) == 1:
        return [Path(_make_one(n, directory, command, progress)) for n in names]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_make_one, n, directory, command, False) for n in names]
        return [Path(f.result()) for f in futures]


def status(directory: str | Path | None = None) -> list[dict]:
    """One row per entry: ``name``, ``figure``, ``present``, ``fresh`` (None when absent),
    ``stale`` (why not fresh: "solver code changed", "recipe changed", both joined, or ""),
    ``verified`` (the date of the check that made it fresh, or ""), ``created``, ``command``.

    An entry is fresh when the current source of its solvers has the fingerprint of the code
    that computed it, or of the code that a later ``check --certify`` found to reproduce its
    sample of points (a change that leaves the results alone need not recompute hours), and
    its recipe (the options in :data:`ENTRIES`) is the one it was made with."""
    rows = []
    for name, entry in ENTRIES.items():
        path = _path(name, directory)
        row = {"name": name, "figure": entry.figure, "present": path.is_file(), "fresh": None,
               "stale": "", "verified": "", "created": "", "command": ""}
        if row["present"]:
            with xr.open_dataset(path) as ds:
                attrs = dict(ds.attrs)
            now = solver_fingerprint(entry.solvers)
            made = attrs.get("solver_fingerprint") == now
            verified = attrs.get("verified_fingerprint") == now
            recipe = json.loads(attrs.get("options", "null")) == json.loads(
                json.dumps(entry.options, default=str))
            why = [w for w, ok in (("solver code changed", made or verified),
                                   ("recipe changed", recipe)) if not ok]
            row.update(fresh=not why, stale=" and ".join(why),
                       verified=attrs.get("verified", "") if verified and not made else "",
                       created=attrs.get("created", ""), command=attrs.get("command", ""))
        rows.append(row)
    return rows


def check(names: Sequence[str] | None = None, directory: str | Path | None = None, *,
          certify: bool = False) -> list[dict]:
    """Recompute each present entry's sample of points with the current code.

    Parameters
    ----------
    names : sequence of str, optional
        Entries (default: all present).
    directory : path, optional
    certify : bool
        Record in each entry whose whole sample is reproduced that the current solver code
        reproduces it (``verified_fingerprint``, ``verified_commit``, ``verified``), which makes
        it fresh again for :func:`status`; its provenance (who computed it, when, with which
        code) is left as it was.

    Returns
    -------
    list of dict
        ``entry``, ``label``, ``archived``, ``recomputed``, ``tol``, ``ok``
        (``|archived - recomputed| <= tol``).
    """
    out = []
    for name in _names(names):
        path = _path(name, directory)
        if not path.is_file():
            continue
        ds = load(name, directory)
        rows = [{"entry": name, "label": label, "archived": float(a), "recomputed": float(r),
                 "tol": tol, "ok": bool(abs(float(a) - float(r)) <= tol)}
                for label, a, r, tol in ENTRIES[name].sample(ds)]
        if certify and rows and all(r["ok"] for r in rows):
            ds.attrs.update(verified_fingerprint=solver_fingerprint(ENTRIES[name].solvers),
                            verified_commit=_git_commit(), verified=_dt.datetime.now(
                                _dt.UTC).isoformat(timespec="seconds"))
            save(ds, path)
        out.extend(rows)
    return out


def adopt(names: Sequence[str], directory: str | Path | None = None) -> dict[str, int]:
    """Put the χ ladders of archived MPO cylinder entries into the result cache, so that a
    make of a grown recipe (a rung appended through ``chi_more``, a detuning or a case added)
    on a machine whose cache does not hold them computes only what is new.

    An archived ladder is stored as the current code's result only where the entry holds for
    that code: made by it (``solver_fingerprint``) or reproduced under it by
    ``check --certify`` (``verified_fingerprint``), the trust that makes an entry fresh
    (:func:`status`). Each ladder is keyed by the entry's own recipe (its ``options``
    attribute), as its make computed it; a ladder with a rung missing (NaN) is left out, and
    a ladder the cache already holds is left as it is.

    Parameters
    ----------
    names : sequence of str
        Cylinder ladder entries (``cylinder_convergence``, ``cylinder_length``).
    directory : path, optional
        Default :func:`archive_dir`.

    Returns
    -------
    dict
        Entry name → number of ladders put into the cache (or found there).
    """
    if isinstance(names, str) or not names:
        raise ValueError(f"names: give the cylinder entries to adopt as a list, got {names!r}")
    ladders = [n for n, e in ENTRIES.items() if e.compute is _cylinder_convergence]
    for name in _names(names):
        if name not in ladders:
            raise ValueError(f"names: {name!r} is not an MPO cylinder ladder entry (those are "
                             f"{ladders})")
        path = _path(name, directory)
        if not path.is_file():
            raise ValueError(f"names: {name!r} is not archived in {path.parent}")
    out = {}
    for name in names:
        ds = load(name, directory)
        now = solver_fingerprint(ENTRIES[name].solvers)
        if now not in (ds.attrs.get("solver_fingerprint"), ds.attrs.get("verified_fingerprint")):
            raise ValueError(f"names: {name!r} was computed by other solver code "
                             f"({ds.attrs.get('solver_fingerprint')}, now {now}) and not "
                             f"certified for this one: run `python -m ddlib.archive check "
                             f"--certify {name}` first")
        opt = json.loads(ds.attrs["options"])
        ladder_of = _ladder_chis(opt)
        n = 0
        for d in ds.Delta.values:
            chis = ladder_of[float(d)]
            for b, case in enumerate(opt["cases"]):
                rungs = ds.sel(Delta=d, chi=chis).isel(case=b)
                if np.isnan(rungs.mu_x.values).any():
                    continue
                given = {k: [float(v) for v in rungs[k].values] for k in _LADDER_VARS}
                if "profile" in rungs:
                    given["profile"] = rungs.profile.values[:, :int(case[0])].tolist()
                _mpo_ladder(opt, float(d), tuple(case), chis, given=given)
                n += 1
        out[name] = n
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (``python -m ddlib.archive``); returns the exit status."""
    if argv is not None and (isinstance(argv, str) or not all(isinstance(a, str) for a in argv)):
        raise TypeError(f"argv must be a list of strings, got {argv!r}")
    parser = argparse.ArgumentParser(prog="python -m ddlib.archive", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="what the archive holds and whether it is fresh")
    mk = sub.add_parser("make", help="(re)make entries; resumes where it stopped")
    mk.add_argument("names", nargs="*", help=f"entries (default all): {', '.join(ENTRIES)}")
    mk.add_argument("-w", "--workers", type=int, default=1)
    ck = sub.add_parser("check", help="recompute a cheap sample of archived points")
    ck.add_argument("names", nargs="*")
    ck.add_argument("--certify", action="store_true",
                    help="mark entries whose sample is reproduced as fresh for this code")
    ad = sub.add_parser("adopt", help="put archived MPO cylinder ladders into the result "
                        "cache, so that a make of a grown recipe computes only what is new")
    ad.add_argument("names", nargs="+")
    for p in (mk, ck, ad):
        p.add_argument("--dir", default=None, help="archive directory (default results/)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "list":
            rows = [(r["name"], r["figure"],
                     "missing" if not r["present"] else
                     f"STALE ({r['stale']})" if not r["fresh"] else
                     f"fresh (verified {r['verified'][:10]})" if r["verified"] else "fresh",
                     r["created"] or "") for r in status()]
            widths = [max(len(row[i]) for row in rows) for i in range(3)]
            for row in rows:  # columns as wide as their longest cell
                print("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True))
                      + "  " + row[3])
        elif args.cmd == "adopt":
            for name, n in adopt(args.names, args.dir).items():
                print(f"{name}: {n} ladders in the cache ({cache_dir()})")
        elif args.cmd == "make":
            for p in make(args.names, workers=args.workers, directory=args.dir):
                print(p)
        else:
            rows = check(args.names, args.dir, certify=args.certify)
            for r in rows:
                print(f"{'ok ' if r['ok'] else 'BAD'} {r['entry']:12s} {r['label']:40s} "
                      f"{r['archived']: .10g} {r['recomputed']: .10g} (tol {r['tol']:g})")
            return 0 if all(r["ok"] for r in rows) else 1
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        status_code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `... list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status_code = 141  # 128 + SIGPIPE, as a shell tool would
    sys.exit(status_code)
