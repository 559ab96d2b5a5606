"""Benchmark of ddlib.mfqf against a plain NumPy (np.roll) + solve_ivp baseline.

Measured in one run, on this machine:

1. right-hand-side evaluations per second, numba kernel vs. the NumPy baseline (same
   equations written with ``np.roll`` on the full 3×3 correlator fields; the two are also
   checked to agree);
2. one steady state: ``mfqf.steady_state`` (Green's function + 3-d root in μ) vs. integrating
   the baseline with ``scipy.integrate.solve_ivp`` (RK45) from all spins down to t = T;
3. a steady state within 0.01 of the upper edge of the 2D bistable window (where time
   integration needs t ≳ 3000 and is not run), and the cost of κ (ARPACK).

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/mfqf.py
    python benchmarks/mfqf.py --quick      # smaller lattices, shorter baseline

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
    geo, const = mfqf._geometry(lat), mfqf._constants(model)
    y6 = np.concatenate([mu, mfqf._pack(eta).ravel()])
    t_numba, _ = timed(lambda: [mfqf._rhs_flat(y6, geo, const) for _ in range(n_eval)][-1], 3)
    t_numpy, ref = timed(lambda: [numpy_rhs(model, shape, y) for _ in range(n_eval)][-1], 3)
    err = max(np.abs(ref[:3] - dmu).max(), np.abs(ref[3:] - deta.ravel()).max())
    return n_eval / t_numba, n_eval / t_numpy, err


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small lattices (a smoke run)")
    args = parser.parse_args()
    L2, L3, T_base = (60, 16, 30.0) if args.quick else (200, 40, 60.0)

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus, python {platform.python_version()}")
    print("threads: " + ", ".join(f"{v}={os.environ.get(v, 'unset')}" for v in
                                  ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                   "NUMBA_NUM_THREADS")))
    print("model: Omega = 0.5, JZ = 4, Delta = 1.5 (Fig. 3), Gamma = 1\n")

    no_kappa = mfqf.SteadyOptions(kappa=False)
    for lat in (lattice.hypercubic(L2, 2), lattice.hypercubic(L3, 3)):
        model = Model(Delta=1.5, Omega=0.5, J=4.0 / lat.Z)
        fast, slow, err = bench_rhs(model, lat, 20)
        print(f"[{lat!r}] RHS evaluations/s: numba {fast:.1f}, NumPy np.roll {slow:.1f}, "
              f"ratio {fast / slow:.1f}x (max difference {err:.1e})")
        mfqf.steady_state(model, lattice.hypercubic(4, lat.dim), options=no_kappa)  # warm-up
        t_ss, ss = timed(lambda model=model, lat=lat: mfqf.steady_state(
            model, lat, options=no_kappa))
        print(f"  steady state (no kappa): {t_ss:.2f} s, converged={ss.converged}, "
              f"residual {ss.residual:.1e}, mu = {np.round(ss.mu, 6)}")
        t_k, ssk, mem = traced(lambda model=model, lat=lat: mfqf.steady_state(model, lat))
        print(f"  steady state with kappa (ARPACK): {t_k:.2f} s (timed under tracemalloc), "
              f"kappa = {ssk.kappa:.5f}; peak array memory {mem:.0f} MB")

        def baseline(model=model, lat=lat):
            y0 = np.concatenate([[0, 0, -1.0], np.zeros(9 * lat.N)])
            return scipy.integrate.solve_ivp(lambda t, y: numpy_rhs(model, lat.shape, y),
                                             (0, T_base), y0, method="RK45", rtol=1e-6,
                                             atol=1e-9, t_eval=[T_base])

        t_base, sol = timed(baseline)
        if lat.dim == 2:
            t_base_2d = t_base
        dist = np.abs(sol.y[:3, -1] - ss.mu).max()
        print(f"  baseline NumPy + solve_ivp(RK45) to t = {T_base:g}: {t_base:.1f} s "
              f"({sol.nfev} RHS evaluations), still |mu - mu_S| = {dist:.1e}; "
              f"ratio {t_base / t_ss:.0f}x (baseline time / steady_state time)\n")

    # near the upper edge of the 2D bistable window
    lat = lattice.hypercubic(L2, 2)
    model = Model(Delta=2.0, Omega=0.5, J=1.0)
    opts = mfqf.SteadyOptions(kappa=False)
    t_path, path = timed(lambda: mfqf.continuation(
        model, lattice.hypercubic(48, 2), "Delta", np.linspace(2.0, 2.4, 9),
        method="arclength", options=opts))
    turn = int(np.flatnonzero(np.diff(path.values) < 0)[0])  # first fold: Δ turns back
    edge = path.values[turn]
    low = path.points[turn - 1]
    print(f"[2D] upper fold of the bistable window on 48^2 (arclength, {t_path:.1f} s): "
          f"Delta_edge = {edge:.4f}")
    near = model.replace(Delta=edge - 0.01)
    t_cold, cold = timed(lambda: mfqf.steady_state(near, lat, options=opts))
    t_warm, warm = timed(lambda: mfqf.steady_state(near, lat, low, options=opts))
    print(f"[{lat!r}] Delta = edge - 0.01 = {near.Delta:.4f}: from all spins down "
          f"{t_cold:.2f} s (mu_x = {cold.mu[0]:.5f}, converged={cold.converged}); warm start "
          f"from the branch below the fold {t_warm:.2f} s (mu_x = {warm.mu[0]:.5f}, "
          f"converged={warm.converged})")
    t_3000 = t_base_2d * 3000 / T_base
    print(f"  time integration there needs t >~ 3000: the baseline's measured rate on this "
          f"lattice ({T_base:g} time units in {t_base_2d:.1f} s) extrapolates to "
          f"{t_3000 / 60:.0f} min, ratio ~{t_3000 / t_warm:.0f}x (extrapolated, not run)")
    print(f"peak RSS of the whole process (includes the baseline): {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
