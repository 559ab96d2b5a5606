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

``fig3`` mode: the full data of Fig. 3 exactly as the archive entry ``fig3_mfqf`` makes them
(its options: MFQF hysteresis in Δ, 121 values in 0.5 ≤ Δ ≤ 3.5, Ω = 0.5, J𝒵 = 4, up and
down, branch ends bisected to 1e-4, far_tol 0.01, on the periodic 400, 200² and 40³
lattices: 6 tasks), serially (one :func:`~ddlib.sweep.hysteresis` call per lattice, as the
archive makes them, each timed), then on a ``LocalCluster`` of 2 processes x 1 thread
started inside the timed interval (cluster start and close included) with
:func:`ddlib.sweep.hysteresis_set`, then serially again: the ratio is taken against the
mean of the two serial runs, which cancels a drift of the machine's speed that is linear
in time (on a shared host it drifts by up to 20 % in half an hour).
Numba kernels come from the on-disk cache in all three. Each run from an empty result cache; the
results are checked identical; the task stream of the parallel run shows each task's
worker and time (the balance).
``--L`` and ``--n`` shrink it (a reduced profile).

``pair`` mode: how much two processes slow each other down on this machine, without dask:
one MFQF sweep (one direction on L², no bisection) alone, then two copies of it at once in
two plain processes (``multiprocessing``, spawn). The ratio (time of a copy beside another /
time alone) bounds what any 2-worker run can reach: 2 / ratio.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/sweep.py
    python benchmarks/sweep.py --L 40 --n 41 --jz 4 5   # bigger
    python benchmarks/sweep.py fig3                      # the full Fig. 3 data (~20-40 min)
    python benchmarks/sweep.py fig3 --L 400 100 20 --n 31  # reduced profile
    python benchmarks/sweep.py pair --L 120 --n 61       # two processes side by side
    python benchmarks/sweep.py machine                   # the same for plain kernels
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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def fig3(sizes: list[int] | None, n: int | None, workers: int) -> None:
    """Serial against ``workers`` dask processes on the archive's Fig. 3 sweeps."""
    from dask.distributed import Client, get_task_stream

    from ddlib.archive import ENTRIES

    opt = dict(ENTRIES["fig3_mfqf"].options)
    if sizes is not None:
        opt["L"] = sizes
    if n is not None:
        opt["Delta"] = [opt["Delta"][0], opt["Delta"][1], n]
    sweeps = []
    for D, L in zip(opt["D"], opt["L"], strict=True):
        lat = lattice.hypercubic(L, D)
        sweeps.append(dict(model=Model(Delta=0.0, Omega=opt["Omega"], J=opt["JZ"] / lat.Z),
                           lattice=lat, param="Delta", values=np.linspace(*opt["Delta"]),
                           jump=opt["jump"], far_tol=opt["far_tol"], tol=opt["tol"]))
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {load()} at start")
    reduced = "" if sizes is None and n is None else ", REDUCED"
    print(f"task: Fig. 3 data (archive fig3_mfqf options{reduced}): "
          f"D = {opt['D']}, L = {opt['L']}, {opt['Delta'][2]} values of Delta in "
          f"[{opt['Delta'][0]}, {opt['Delta'][1]}], up and down, tol = {opt['tol']}, "
          f"far_tol = {opt['far_tol']} ({2 * len(sweeps)} tasks)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:

        def serially(label: str, cache: str, reference=None):
            """One hysteresis call per lattice (what the archive does), each timed and, when
            ``reference`` is given, compared with it as it finishes."""
            out, total = [], 0.0
            for i, (D, kw) in enumerate(zip(opt["D"], sweeps, strict=True)):
                ds, dt = timed(lambda kw=kw: sweep.hysteresis(**kw, progress=False),
                               f"{cache}{i}")
                if reference is not None:
                    xr.testing.assert_identical(ds, reference[i])
                out.append(ds)
                total += dt
                same = "" if reference is None else " (identical to the parallel result)"
                print(f"serial ({label}) {D}D L = {kw['lattice'].shape[0]}: {dt:.1f} s{same}; "
                      f"load average {load()}", flush=True)
            print(f"serial ({label}) total: {total:.1f} s", flush=True)
            return out, total

        def on_cluster():
            with sweep.local_cluster(workers) as cluster, Client(cluster) as client, \
                    get_task_stream(client) as stream:
                out = sweep.hysteresis_set(sweeps, client=client, progress=False)
            return out, stream.data

        # serial, parallel, serial (an A-B-A design): the host's speed drifts by up to 20 %
        # within half an hour, and the mean of the two serial runs bracketing the parallel one
        # cancels a drift that is linear in time
        # the kernels loaded in this process first (untimed), as they are for the run after
        for i, kw in enumerate(sweeps):
            timed(lambda kw=kw: sweep.hysteresis(
                **{**kw, "lattice": lattice.hypercubic(4, kw["lattice"].dim),
                   "values": kw["values"][:2]}, progress=False), f"{tmp}/w{i}")
        _, t_before = serially("before", f"{tmp}/s")
        (par, tasks), t_par = timed(on_cluster, f"{tmp}/p")
        print(f"{workers} dask workers (cluster start and close included): {t_par:.1f} s; "
              f"load average {load()}", flush=True)
        busy: dict[str, float] = {}
        for task in sorted(tasks, key=lambda t: t["startstops"][0]["start"]):
            compute = [s for s in task["startstops"] if s["action"] == "compute"]
            dt = sum(s["stop"] - s["start"] for s in compute)
            busy[task["worker"]] = busy.get(task["worker"], 0.0) + dt
            print(f"  task on {task['worker']}: {dt:.1f} s")
        for worker, t in busy.items():
            print(f"  worker {worker}: busy {t:.1f} s of {t_par:.1f} s")
        _, t_after = serially("after", f"{tmp}/a", reference=par)
    t_serial = (t_before + t_after) / 2
    print(f"serial: {t_before:.1f} s before, {t_after:.1f} s after, mean {t_serial:.1f} s; "
          f"{workers} workers: {t_par:.1f} s; speed-up {t_serial / t_par:.2f}x (against "
          f"before {t_before / t_par:.2f}x, after {t_after / t_par:.2f}x); results identical")
    print(f"load average {load()} at end")


def _pair_task(L: int, n: int) -> float:
    """One sweep direction on L² (no bisection), from an empty cache: its wall time."""
    os.environ["DDLIB_CACHE"] = "off"
    lat = lattice.hypercubic(L, 2)
    t = time.perf_counter()
    sweep.hysteresis(Model(Delta=0.0, Omega=0.5, J=1.0), lat, "Delta",
                     np.linspace(0.5, 3.5, n), direction="up", progress=False)
    return time.perf_counter() - t


def pair(L: int, n: int) -> None:
    """The same sweep alone, then two copies at once in two processes."""
    import multiprocessing

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {load()} at start")
    print(f"task: MFQF sweep up in Delta on {L}x{L}, {n} points, no bisection", flush=True)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:  # a fresh process, as each copy below
        alone = pool.apply(_pair_task, (L, n))
    print(f"alone: {alone:.1f} s; load average {load()}", flush=True)
    with ctx.Pool(2) as pool:
        both = pool.starmap(_pair_task, [(L, n), (L, n)])
    print(f"two at once: {both[0]:.1f} s and {both[1]:.1f} s; load average {load()}")
    ratio = max(both) / alone
    print(f"slow-down of a copy beside another: {ratio:.2f}x; bound on 2 workers: "
          f"{2 / ratio:.2f}x")


def _kernel(kind: str) -> float:
    """Seconds of one plain kernel (see the module docstring), one BLAS thread."""
    rng = np.random.default_rng(0)
    if kind == "L1/L2":
        a = rng.standard_normal((48, 48))
        t = time.perf_counter()
        for _ in range(600_000):
            a @ a
    else:
        a = rng.standard_normal(1_000_000 if kind == "L3" else 25_000_000)
        t = time.perf_counter()
        for _ in range(6000 if kind == "L3" else 250):
            a *= 1.0000001
    return time.perf_counter() - t


def machine(repeat: int) -> None:
    """Plain kernels alone and two at once, ``repeat`` times each."""
    import multiprocessing

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {load()} at start")
    ctx = multiprocessing.get_context("spawn")
    for kind in ("L1/L2", "L3", "memory"):
        ratios = []
        for _ in range(repeat):
            with ctx.Pool(1) as pool:
                alone = pool.apply(_kernel, (kind,))
            with ctx.Pool(2) as pool:
                both = pool.map(_kernel, [kind, kind])
            ratios.append(max(both) / alone)
        r = sorted(ratios)
        print(f"{kind}: slow-down of a copy beside another, {repeat} tries: "
              + ", ".join(f"{x:.2f}" for x in ratios)
              + f" (median {r[len(r) // 2]:.2f}; bound on 2 workers {2 / r[len(r) // 2]:.2f}x)",
              flush=True)
    print(f"load average {load()} at end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", nargs="?", choices=["maps", "fig3", "pair", "machine"],
                    default="maps",
                    help="maps: 2D sweeps at several JZ (default); fig3: the Fig. 3 data; "
                         "pair: one sweep alone and two at once; machine: the same for "
                         "plain kernels")
    ap.add_argument("--L", type=int, nargs="+", default=None,
                    help="maps: linear size of the L x L lattice (default 32); fig3: the "
                         "three sizes (1D, 2D, 3D; default the archive's 400 200 40)")
    ap.add_argument("--n", type=int, default=None,
                    help="number of Delta values (maps: in [1, 3], default 21; fig3: in "
                         "[0.5, 3.5], default the archive's 121)")
    ap.add_argument("--jz", type=float, nargs="+", default=[4.0, 5.0], help="values of JZ")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5, help="machine: tries per kernel")
    args = ap.parse_args()
    if args.mode == "machine":
        machine(args.repeat)
        return
    if args.mode == "fig3":
        fig3(args.L, args.n, args.workers)
        return
    if args.mode == "pair":
        pair(120 if args.L is None else args.L[0], 61 if args.n is None else args.n)
        return
    args.L = 32 if args.L is None else args.L[0]
    args.n = 21 if args.n is None else args.n

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
        from dask.distributed import Client

        with sweep.local_cluster(args.workers) as cluster, Client(cluster) as client:
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
