"""Benchmark of ddlib.sweep: hysteresis sweeps serial vs. on 2 dask worker processes.

Measured in one run, on this machine: the same set of MFQF hysteresis sweeps
(:func:`ddlib.sweep.hysteresis_many`: Δ swept up and down on a periodic L² lattice at
several J𝒵, Ω = 0.5, Γ = 1, each point warm-started, ``require_stable=True``), once serially
and once on a ``LocalCluster`` of 2 processes with one thread each; each run starts from an
empty cache, and the results are checked to be identical. Two parallel times: one that
includes starting and closing the cluster (what a one-off call with ``parallel=True`` pays:
process start, imports, loading the numba kernels), and one on a cluster already started
and warmed by a one-point sweep on each worker (what a session that keeps a ``Client`` pays).
Each sweep direction is one task, so with 2 J𝒵 values there are 4 tasks of similar length
for 2 workers: the ideal speed-up is 2.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/sweep.py
    python benchmarks/sweep.py --L 40 --n 41 --jz 4 5   # bigger
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np
import xarray as xr

from ddlib import Model, lattice, sweep


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def timed(run, cache: str):
    os.environ["DDLIB_CACHE"] = cache
    t = time.perf_counter()
    ds = run()
    return ds, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--L", type=int, default=32, help="linear size of the L x L lattice")
    ap.add_argument("--n", type=int, default=21, help="number of Delta values in [1, 3]")
    ap.add_argument("--jz", type=float, nargs="+", default=[4.0, 5.0], help="values of JZ")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    lat = lattice.hypercubic(args.L, 2)
    model = Model(Delta=0.0, Omega=0.5, J=1.0)
    kwargs = dict(model=model, lattice=lat, param="Delta", values=np.linspace(1.0, 3.0, args.n),
                  vary={"J": np.asarray(args.jz) / lat.Z}, progress=False)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f} (1 min) at start")
    print(f"task: MFQF hysteresis on {args.L}^2, {args.n} values of Delta in [1, 3], up and "
          f"down, JZ = {args.jz} ({2 * len(args.jz)} sweeps of {args.n} points)")
    # warm the numba kernels in this process (both runs' workers compile their own)
    sweep.hysteresis(model, lattice.hypercubic(4, 2), "Delta", [1.0], progress=False,
                     name="bench.warmup")
    with tempfile.TemporaryDirectory() as tmp:
        serial, t_serial = timed(lambda: sweep.hysteresis_many(**kwargs, parallel=False),
                                 f"{tmp}/a")
        par, t_par = timed(lambda: sweep.hysteresis_many(**kwargs, workers=args.workers),
                           f"{tmp}/b")
        import logging

        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            os.environ["DDLIB_CACHE"] = f"{tmp}/warm"
            sweep.hysteresis_many(model, lattice.hypercubic(4, 2), "Delta", [1.0],
                                  vary={"J": [1.0, 1.1]}, client=client, progress=False)
            warm, t_warm = timed(lambda: sweep.hysteresis_many(**kwargs, client=client),
                                 f"{tmp}/c")
    xr.testing.assert_identical(serial, par)
    xr.testing.assert_identical(serial, warm)
    print(f"serial: {t_serial:.1f} s")
    print(f"{args.workers} dask workers, cluster started in the call: {t_par:.1f} s, "
          f"speed-up {t_serial / t_par:.2f}x")
    print(f"{args.workers} dask workers, cluster already started: {t_warm:.1f} s, "
          f"speed-up {t_serial / t_warm:.2f}x")
    print("results identical in all three")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at end")


if __name__ == "__main__":
    main()
