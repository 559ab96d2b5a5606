"""Benchmark of ddlib.exact.steady_state: wall time and peak memory, against QuTiP.

Run: ``.venv/bin/python benchmarks/exact.py [--sizes quick|all] [--only fc:100 2d:10]
[--timeout SECONDS]``.

Every case runs in a fresh process (so its peak resident memory, ``ru_maxrss``, is its own;
the import baseline of that process is printed next to it) at Ω = 0.5, JZ = 6, Δ = 3.75 —
inside the bimodal region, where the steady state is the most structured. The N = 6 cases
time QuTiP's ``steadystate`` of the full 4^N Liouvillian (``ddlib.model.liouvillian``,
built outside the timer) in the same run and print the ratio; FC N = 50 and 2D N = 10 are
also solved with SciPy's SuperLU instead of PARDISO (ratio printed). Targets (issue 2): N = 6
≥ 100× faster than QuTiP; FC N = 10 ≤ 0.1 s; FC N = 100 ≤ 60 s; 2D N = 10 ≤ 2 min, ≤ 8 GB.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import time

CASES_QUICK = [("ring", 6), ("fc", 6), ("fc", 10), ("fc", 20), ("2d", 8)]
CASES_ALL = CASES_QUICK + [("fc", 50), ("2d", 10), ("fc", 100)]
SUPERLU_BASELINE = [("fc", 50), ("2d", 10)]   # large cases also timed with SciPy's SuperLU
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")


def _lattice(kind: str, N: int):
    from ddlib import lattice

    return {"ring": lattice.chain, "fc": lattice.fully_connected,
            "2d": lattice.cluster2d}[kind](N)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _run(kind: str, N: int, route: str) -> dict:
    """One case in this (fresh) process: returns times and memory."""
    from ddlib import Model
    from ddlib.exact import SteadyStateOptions, memory_estimate, steady_state

    lat = _lattice(kind, N)
    model = Model(Delta=3.75, Omega=0.5, J=6.0 / lat.Z)
    if route == "qutip":
        import qutip

        from ddlib.model import liouvillian

        L = liouvillian(model, lat)
        base = _rss_mb()
        t0 = time.perf_counter()
        rho = qutip.steadystate(L)
        wall = time.perf_counter() - t0
        return {"wall": wall, "rss": _rss_mb(), "base": base, "n": L.shape[0],
                "trace": float(abs(rho.tr()))}
    options = SteadyStateOptions(linear_solver="superlu" if route == "superlu" else "auto")
    steady_state(model, _lattice(kind, 4) if kind != "2d" else _lattice(kind, 5))  # JIT warm
    base = _rss_mb()
    t0 = time.perf_counter()
    s = steady_state(model, lat, options=options)
    wall = time.perf_counter() - t0
    return {"wall": wall, "rss": _rss_mb(), "base": base, "n": s.n_unknowns,
            "estimate": memory_estimate(lat).bytes / 2**20, "residual": s.residual,
            "bx": s.bimodality, "converged": s.converged,
            "solver": s.message.removeprefix("solved (").rstrip(")")}


def _in_fresh_process(*args, timeout: float) -> dict | None:
    """``_run(*args)`` in a new process; None if it exceeds ``timeout`` seconds (killed)."""
    with mp.get_context("spawn").Pool(1) as pool:
        try:
            return pool.apply_async(_run, args).get(timeout)
        except mp.TimeoutError:
            return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", choices=("quick", "all"), default="all",
                        help="'quick' skips FC N = 50, 100 and 2D N = 10")
    parser.add_argument("--only", nargs="*", default=None, metavar="KIND:N",
                        help="run only these cases, e.g. fc:100 2d:10")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds per case before it is killed and reported (default 600)")
    args = parser.parse_args()
    cases = CASES_QUICK if args.sizes == "quick" else CASES_ALL
    if args.only:
        cases = [(c.split(":")[0], int(c.split(":")[1])) for c in args.only]
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("threads: " + ", ".join(f"{v}={os.environ.get(v, 'unset')}" for v in THREAD_VARS))
    print(f"{'case':>10} {'route':>8} {'unknowns':>9} {'wall [s]':>9} {'peak RSS [MB]':>14} "
          f"{'(import base)':>13}  notes")
    for kind, N in cases:
        ours = _in_fresh_process(kind, N, "ddlib", timeout=args.timeout)
        if ours is None:
            print(f"{kind + ' N=' + str(N):>10} {'ddlib':>8} {'':>9} {'> ' + str(args.timeout):>9}"
                  f"  killed after --timeout {args.timeout:g} s", flush=True)
            continue
        note = (f"{ours['solver']}, residual {ours['residual']:.1e}, b_x {ours['bx']:.2f}, "
                f"memory_estimate {ours['estimate']:.0f} MB"
                + ("" if ours["converged"] else ", NOT converged"))
        print(f"{kind + ' N=' + str(N):>10} {'ddlib':>8} {ours['n']:>9} {ours['wall']:>9.3f} "
              f"{ours['rss']:>14.0f} {ours['base']:>13.0f}  {note}", flush=True)
        if N == 6:
            ref = _in_fresh_process(kind, N, "qutip", timeout=args.timeout)
            print(f"{'':>10} {'qutip':>8} {ref['n']:>9} {ref['wall']:>9.3f} {ref['rss']:>14.0f} "
                  f"{ref['base']:>13.0f}  speed-up ddlib vs QuTiP: "
                  f"{ref['wall'] / ours['wall']:.0f}x", flush=True)
        if ours["solver"] == "pardiso" and (kind, N) in SUPERLU_BASELINE:
            ref = _in_fresh_process(kind, N, "superlu", timeout=args.timeout)
            if ref is None:
                print(f"{'':>10} {'superlu':>8} {'':>9} {'> ' + str(args.timeout):>9}  killed")
                continue
            print(f"{'':>10} {'superlu':>8} {ref['n']:>9} {ref['wall']:>9.3f} {ref['rss']:>14.0f} "
                  f"{ref['base']:>13.0f}  PARDISO vs SuperLU: {ref['wall'] / ours['wall']:.1f}x",
                  flush=True)


if __name__ == "__main__":
    main()
