"""Benchmark of ddlib.mfqf against a plain NumPy (np.roll) + solve_ivp baseline.

Measured in one run, on this machine:

1. right-hand-side evaluations per second, numba kernel vs. the NumPy baseline (same
   equations written with ``np.roll`` on the full 3×3 correlator fields; the two are also
   checked to agree);
2. one steady state: ``mfqf.steady_state`` (Green's function + 3-d root in μ) vs. integrating
   the baseline with ``scipy.integrate.solve_ivp`` (RK45) from all spins down until it meets
   the SAME convergence criterion, max-norm of the full right-hand side (μ and every η) below
   ``SteadyOptions().residual_tol`` (or below the residual our solver reached, if larger);
   the baseline runs in chunks of ``CHUNK`` time units and stops at a wall-time cap, in which
   case the printed ratio is a lower bound (">=");
3. the same comparison within 0.01 of the upper end of the stable low-Δ branch (2D and 3D;
   located to 1e-4 first, see :func:`upper_edge`; critical slowing down: κ ~ 1e-3 and time
   integration needs t ≳ 3000), as a sweep step: both start from the branch's state at
   Δ_edge − 0.05. Next to the end the reduced μ problem has further, unstable roots close
   by; the warm start follows its branch to the stable state, the one the baseline
   approaches (a result that is not is marked). Timed without and with κ (+ the stability
   check ``require_stable=True``): κ (ARPACK; shift-invert next to the edge) is the costly
   part there.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/mfqf.py
    python benchmarks/mfqf.py --quick      # smaller lattices (60², 16³)
    python benchmarks/mfqf.py --cap 600    # wall-time cap of each baseline run (s)
    python benchmarks/mfqf.py --memory     # peak memory per site vs. the refusal estimate

``--memory`` measures, with tracemalloc, the peak array memory per lattice site of
``steady_state`` (with κ), ``rhs`` and ``evolve`` (2 and 201 output times) on 2D and 3D
lattices, and prints it next to the estimate MFQF uses to refuse a lattice that would not fit
(``ddlib.mfqf.equations._FLOATS_PER_SITE``, ``_evolve_floats``): the estimate must not be
below the measurement.

Parameters: Ω = 0.5, JZ = 4 (Fig. 3), Δ = 1.5 unless stated; Γ = 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc

import numpy as np
import scipy.integrate

from ddlib import Model, lattice, mfqf
from ddlib.mfqf.equations import (
    _FLOATS_PER_SITE,
    _constants,
    _evolve_floats,
    _geometry,
    _pack,
    _rhs_flat,
)
from ddlib.mfqf.green import _bulk_growth, _Fourier

EPS = np.zeros((3, 3, 3))
for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    EPS[i, j, k], EPS[j, i, k] = 1.0, -1.0


def numpy_rhs(model: Model, shape: tuple, y: np.ndarray) -> np.ndarray:
    """Baseline: the closed MFQF equations with np.roll on full (3, 3, *shape) fields."""
    dim = len(shape)
    mu = y[:3]
    X = y[3:].reshape((3, 3, *shape)).copy()
    origin = (slice(None), slice(None)) + (0,) * dim
    X[origin] = 0.0
    cm = np.array([1.0, 1.0, 0.0]) if model.coupling == "xy" else np.array([0.0, 0.0, 1.0])
    Pi = np.array([[0, -model.Delta, 0], [model.Delta, 0, -2 * model.Omega],
                   [0, 2 * model.Omega, 0]])
    Lam = Pi - model.Gamma * np.diag([0.5, 0.5, 1.0])
    Z, J = 2 * dim, model.J
    P = np.einsum("cae,c,c->ae", EPS, cm, mu)
    Q = np.einsum("cae,c,e->ac", EPS, cm, mu)
    m = P @ mu
    A = Lam + J * Z * P
    S = sum(np.roll(X, s, axis=2 + ax) for ax in range(dim) for s in (1, -1))
    dX = np.einsum("ad,db...->ab...", A, X) + np.einsum("bd,ad...->ab...", A, X)
    dX += J * (np.einsum("ad,db...->ab...", Q, S) + np.einsum("bd,ad...->ab...", Q, S))
    w_tot = np.zeros(3)
    for ax in range(dim):
        for s in (1, -1):
            R = [0] * dim
            R[ax] = s % shape[ax]
            site = (slice(None), slice(None)) + tuple(R)
            Xr = X[site]
            w = np.einsum("c,cae,ec->a", cm, EPS, Xr)
            w_tot += w
            coll = np.einsum("abe,e->ab", EPS, mu) * (cm[:, None] - cm[None, :])
            dX[site] += J * (coll - P @ Xr - Xr @ P.T - np.outer(m, mu) - np.outer(mu, m)
                             - np.outer(w, mu) - np.outer(mu, w))
    dX[origin] = 0.0
    dmu = Lam @ mu - model.Gamma * np.array([0, 0, 1.0]) + J * Z * m + J * w_tot
    return np.concatenate([dmu, dX.ravel()])


CHUNK = 5.0  # time units integrated by the baseline between two convergence checks (and cap)


def baseline_to_convergence(model: Model, lat, initial, target: float, cap: float):
    """Integrate the NumPy baseline (RK45) from ``initial`` = (mu, eta (3, 3, *shape)) until
    max |RHS| <= target or the wall time exceeds ``cap``.

    Returns (seconds, t reached, RHS evaluations, final max |RHS|, final mu, reached target).
    """
    def f(t, y):
        return numpy_rhs(model, lat.shape, y)

    y = np.concatenate([np.asarray(initial[0], float), np.asarray(initial[1]).ravel()])
    t, nfev, t0 = 0.0, 0, time.perf_counter()
    while True:
        sol = scipy.integrate.solve_ivp(f, (t, t + CHUNK), y, method="RK45", rtol=1e-8,
                                        atol=1e-11, t_eval=[t + CHUNK])
        y, t, nfev = sol.y[:, -1], t + CHUNK, nfev + sol.nfev
        norm = float(np.abs(f(t, y)).max())
        elapsed = time.perf_counter() - t0
        if norm <= target or elapsed > cap or not sol.success:
            return elapsed, t, nfev, norm, y[:3], norm <= target


def report_baseline(label, ours: dict, run):
    """One line: baseline cost to the same criterion and the ratios to each of ``ours``
    ({what: (seconds, mu)}), lower bounds if the baseline hit its cap; a result of ours that
    is not the state the converged baseline reached (|Δμ| > 1e-3) is marked, and the distance
    left when the baseline hit its cap."""
    secs, t, nfev, norm, mu, ok = run
    bound = "" if ok else ">= "
    def note(mu_ours):  # only a converged baseline can say the state differs
        gap = np.abs(mu_ours - mu).max()
        return "" if gap <= 1e-3 else (" (a different state!)" if ok else
                                       f" (baseline still {gap:.1e} away in mu)")

    ratios = ", ".join(f"{bound}{secs / t_ours:.0f}x vs {what}{note(mu_ours)}"
                       for what, (t_ours, mu_ours) in ours.items())
    print(f"  baseline NumPy + solve_ivp(RK45) {label}: {secs:.1f} s, t = {t:g}, {nfev} RHS "
          f"evaluations, max|RHS| = {norm:.1e} ({'criterion met' if ok else 'NOT met: cap hit'})"
          f", mu = {np.round(mu, 6)}; ratio {ratios}")
    return secs


def timed(f, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mb() -> float:
    """Peak resident set size of the process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def traced(f):
    """(seconds, value, peak MB of Python/NumPy allocations during the call)."""
    tracemalloc.start()
    t, out = timed(f)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return t, out, peak


def bench_rhs(model, lat, n_eval):
    shape = lat.shape
    rng = np.random.default_rng(0)
    mu = np.array([0.3, 0.1, -0.8])
    eta = 0.01 * rng.normal(size=(3, 3, *shape))
    axes = tuple(range(2, 2 + lat.dim))
    eta = 0.5 * (eta + np.roll(np.flip(eta, axis=axes), 1, axis=axes))
    eta = 0.5 * (eta + np.swapaxes(eta, 0, 1))
    eta[(slice(None), slice(None)) + (0,) * lat.dim] = 0
    y = np.concatenate([mu, eta.ravel()])
    dmu, deta = mfqf.rhs(model, lat, mu, eta)  # compile / load the numba cache
    # what evolve() and the Jacobian products call: packed state, geometry computed once
    geo, const = _geometry(lat), _constants(model)
    y6 = np.concatenate([mu, _pack(eta).ravel()])
    t_numba, _ = timed(lambda: [_rhs_flat(y6, geo, const) for _ in range(n_eval)][-1], 3)
    t_numpy, ref = timed(lambda: [numpy_rhs(model, shape, y) for _ in range(n_eval)][-1], 3)
    err = max(np.abs(ref[:3] - dmu).max(), np.abs(ref[3:] - deta.ravel()).max())
    return n_eval / t_numba, n_eval / t_numpy, err


def on_branch(model, lat, prev):
    """The state at ``model`` followed from ``prev`` if it is still on prev's stable branch,
    else None: converged, close to prev, bulk correlator modes decaying, and correlations
    short-ranged (|η| ≤ 0.01 at the farthest site, as the multistability chapter's far_tol:
    past the softening of the uniform correlator mode a finite lattice still has fixed
    points, with Σ ~ N, that are no state of the infinite lattice)."""
    ss = mfqf.steady_state(model, lat, prev, options=mfqf.SteadyOptions(kappa=False))
    geo = _geometry(lat)
    growth = _bulk_growth(ss.mu, _constants(model), geo, _Fourier.of(geo))
    far = np.abs(ss.eta[(slice(None), slice(None)) + tuple(n // 2 for n in lat.shape)]).max()
    ok = ss.converged and np.abs(ss.mu - prev.mu).max() < 0.02 and growth < 0 and far <= 0.01
    return ss if ok else None


def upper_edge(lat, step=0.005, tol=1e-4):
    """Upper end Δ_edge of the stable low-Δ branch (Ω = 0.5, JZ = 4) on ``lat``, to ``tol``:
    the branch reached from all spins down at Δ = 1.6 is followed up in Δ (warm starts) in
    steps of ``step`` until it ends, and the end bisected. A point is on the branch when it
    is reached continuously, its bulk correlator modes decay and its correlations are
    short-ranged (:func:`on_branch`): the branch ends at its μ-fold (2D) or where the uniform
    correlator mode softens (κ → 0), in 3D before the μ-fold. Returns Δ_edge and the branch
    state at Δ_edge − 0.05."""
    J = 4.0 / lat.Z
    states = [mfqf.steady_state(Model(Delta=1.6, Omega=0.5, J=J), lat)]
    assert states[0].stable and states[0].mu[0] > 0.1, "not on the low-Delta branch"
    hi = None
    while hi is None:
        nxt = on_branch(Model(Delta=states[-1].model.Delta + step, Omega=0.5, J=J), lat,
                        states[-1])
        if nxt is None:
            hi = states[-1].model.Delta + step
        else:
            states.append(nxt)
    last = states[-1]
    while hi - last.model.Delta > tol:
        mid = on_branch(Model(Delta=0.5 * (last.model.Delta + hi), Omega=0.5, J=J), lat,
                        last)
        if mid is None:
            hi = 0.5 * (last.model.Delta + hi)
        else:
            last = mid
    edge = last.model.Delta
    before = min(states, key=lambda s: abs(s.model.Delta - (edge - 0.05)))
    return edge, on_branch(Model(Delta=edge - 0.05, Omega=0.5, J=J), lat, before)


def memory_runs(m, lat) -> dict:
    """name -> (call, estimated float64 per site) of the MFQF entry points on ``lat``."""
    ss = mfqf.steady_state(m, lat, options=mfqf.SteadyOptions(kappa=False))
    two = mfqf.EvolveOptions(n_times=2)
    return {"steady_state": (lambda: mfqf.steady_state(m, lat),
                             _FLOATS_PER_SITE["steady_state"]),
            "rhs": (lambda: mfqf.rhs(m, lat, ss.mu, ss.eta), _FLOATS_PER_SITE["rhs"]),
            "evolve, 2 times": (lambda: mfqf.evolve(m, lat, 1.0, options=two),
                                _evolve_floats(2)),
            "evolve, 201 times": (lambda: mfqf.evolve(m, lat, 1.0), _evolve_floats(201))}


def memory():
    """Peak float64 per site, measured vs. estimated (see the module docstring)."""
    model = Model(Delta=1.5, Omega=0.5, J=1.0)
    mfqf.steady_state(model, lattice.hypercubic(8, 2))  # numba cache warm
    for lat in (lattice.hypercubic(128, 2), lattice.hypercubic(256, 2),
                lattice.hypercubic(32, 3)):
        for name, (run, estimate) in memory_runs(model.replace(J=4.0 / lat.Z), lat).items():
            t, _, peak = traced(run)
            floats = peak * 2**20 / 8 / lat.N
            print(f"[{lat!r}] {name}: {floats:.0f} float64 per site measured, {estimate} "
                  f"estimated (ratio {floats / estimate:.2f}), {t:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small lattices (a smoke run)")
    parser.add_argument("--cap", type=float, default=None,
                        help="wall-time cap of each baseline run in s (default 60, quick 20)")
    parser.add_argument("--memory", action="store_true",
                        help="peak memory per site vs. the estimate used to refuse lattices")
    args = parser.parse_args()
    if args.memory:
        print(f"machine: {platform.platform()}, {os.cpu_count()} cpus")
        return memory()
    L2, L3 = (60, 16) if args.quick else (200, 40)
    cap = args.cap or (20.0 if args.quick else 60.0)

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus, python {platform.python_version()}")
    print("threads: " + ", ".join(f"{v}={os.environ.get(v, 'unset')}" for v in
                                  ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                   "NUMBA_NUM_THREADS")))
    print(f"model: Omega = 0.5, JZ = 4 (Fig. 3), Gamma = 1; baseline cap {cap:g} s\n")

    no_kappa = mfqf.SteadyOptions(kappa=False)
    criterion = mfqf.SteadyOptions().residual_tol
    for lat in (lattice.hypercubic(L2, 2), lattice.hypercubic(L3, 3)):
        J = 4.0 / lat.Z
        fast, slow, err = bench_rhs(Model(Delta=1.5, Omega=0.5, J=J), lat, 20)
        print(f"[{lat!r}] RHS evaluations/s: numba {fast:.1f}, NumPy np.roll {slow:.1f}, "
              f"ratio {fast / slow:.1f}x (max difference {err:.1e})")
        mfqf.steady_state(Model(Delta=1.5, Omega=0.5, J=J), lattice.hypercubic(4, lat.dim),
                          options=no_kappa)  # warm-up (numba cache)
        t_edge, (edge, prev) = timed(lambda lat=lat: upper_edge(lat))
        print(f"  upper end of the stable low-Delta branch: Delta_edge = {edge:.4f} "
              f"(+- 1e-4; located in {t_edge:.0f} s)")
        cold = ((0.0, 0.0, -1.0), np.zeros((3, 3, *lat.shape)))
        # and a sweep step: the state on the branch at Delta_edge - 0.05 (this lattice),
        # quenched to Delta_edge - 0.01, where relaxation is critically slow
        cases = [(1.5, "Delta = 1.5, from all spins down", None, cold),
                 (edge - 0.01, "Delta = edge - 0.01, from the branch at edge - 0.05", prev,
                  (prev.mu, prev.eta))]
        for Delta, label, warm, start in cases:
            model = Model(Delta=Delta, Omega=0.5, J=J)
            t_ss, ss = timed(lambda model=model, lat=lat, warm=warm: mfqf.steady_state(
                model, lat, warm, options=no_kappa))
            print(f" {label} (Delta = {Delta:.4f}): steady state (no kappa) {t_ss:.2f} s, "
                  f"converged={ss.converged}, residual {ss.residual:.1e}, "
                  f"mu = {np.round(ss.mu, 6)}")
            # with kappa, and for the sweep step the check that the state is stable
            strict = mfqf.SteadyOptions(require_stable=warm is not None)
            t_k, ssk, mem = traced(lambda model=model, lat=lat, warm=warm, strict=strict:
                                   mfqf.steady_state(model, lat, warm, options=strict))
            what = "with kappa" + (" and require_stable" if warm is not None else "")
            print(f"  {what}: {t_k:.2f} s (under tracemalloc), kappa = {ssk.kappa:.5f}, "
                  f"stable={ssk.stable}, mu = {np.round(ssk.mu, 6)}; peak array memory "
                  f"{mem:.0f} MB")
            target = max(criterion, ss.residual)
            report_baseline(f"to max|RHS| <= {target:.0e}",
                            {"no kappa": (t_ss, ss.mu), what: (t_k, ssk.mu)},
                            baseline_to_convergence(model, lat, start, target, cap))
        print()
    print(f"peak RSS of the whole process (includes the baseline): {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
