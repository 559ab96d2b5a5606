"""Benchmark of ddlib.mpo: a Trotter step against its SVD floor, and the paper-profile cost.

Two modes.

``step`` (default): a Trotter step of the MPO solver is a sweep of two-site gates, each
followed by a truncated split of a (4χ_l) × (4χ_r) matrix; full SVDs of those matrices are the
floor of the original route. For an N = 40 chain at the paper's JZ = 4, Ω = 0.5, Δ = 2 and
χ = 64, 128, 256 this times one second-order step (two layers, three half/full sweeps) on a
state whose bonds are saturated at χ, records the matrices the step decomposes, and times plain
``numpy.linalg.svd`` of those matrices in the same run: ratio = step / SVD floor
(target ≤ 2 at χ = 256; below 1 with ``--svd-method rsvd``, which does not compute a full SVD).

``projection``: the paper-profile point (N = 200, χ = 300, order 4, the ``"paper"`` profile's
δt and split), measured on the real run rather than modelled: it evolves the chain from all
spins down to ``--t-probe`` (default 3; the bonds stop growing by t ≈ 2.5), printing each
step's wall time and bond dimensions, and projects t = 20 as the elapsed time plus the
remaining steps at the mean time of the last two. On the state reached it then times, in the
same run, ``--gates`` gates of each layer in the middle of the chain with the old route (full
SVD, δt = 0.1) and the profile's route, projects both as (time per gate) × (gates of that
layer to t = 20, Suzuki's S₄ with half-layers fused) and prints the old/new ratio; and it
times the profile's gates with one and two BLAS threads (``MPOOptions.blas_threads``).

``route``: the fast route of ``mpo.steady_state`` (the transient at χ = 32, second order,
δt = 0.5, then the final δt and order at doubling χ) against plain evolution from all spins
down (``route="plain"``), both to the same stationarity criterion (``--tol`` over 2/Γ), at
equal (N, χ) (``--N 40 --chi 64`` by default, Δ = ``--Delta``, the paper profile's δt = 0.25,
order 4, rsvd), in the same process: wall and CPU seconds, time evolved per stage, the ratio
plain/fast and the difference of the central μ (target ≥ 5×, same state to 1e-3).

``convergence``: the central μ, λ_xx and Σ_xx of the fast route for every (N, χ) of
``--Ns`` × ``--chis`` at each ``--Deltas`` (chain, Ω = 0.5, JZ = 4), each point warm-started
from the same N at the previous χ, written to ``benchmarks/results/mpo_convergence.json``
(one entry per point, appended as they finish, so an interrupted study keeps its points;
every point's final checkpoint is kept, so a rerun resumes the interrupted χ from the stored
χ's state instead of restarting it cold; ``mpo.chi_ladder`` does the same and cleans up), then
prints the table of all stored points and, per Δ, the smallest (N, χ) within 1e-3 in μ and 2 %
in Σ_xx of the largest stored point (``--report-only``: the table alone).

``swaps``: the two routes of the cylinder's far bonds (``MPOOptions.swap_route``) on an
``--cyl`` Lx Ly cylinder (12 4) at ``--cyl-chi`` (32), Δ = ``--Delta``, Ω = 0.5, J𝒵 = 4
(J = 1), the paper profile's δt = 0.25, order 4 and rsvd, both evolved from all spins down to
``--t-probe`` in the same process: swaps per gate, splits per step, seconds per step (CPU,
over the steps after t = 1, when the bonds have filled), discarded weight, and the largest
difference of the site magnetizations and of the central column's η_xx between the two routes,
with the ratios restore/columns.

``cylinder``: the steady state of the ``--cyl`` cylinder at Δ = ``--Delta`` (Ω = 0.5,
J = 1) for each χ of ``--chis``, a ``mpo.chi_ladder`` (δt = 0.25, order 4, rsvd, stationary to
``--tol`` over 2/Γ, ``--t-final`` the longest stage): central μ, the spread of μ over the
central column(s) (App. C's translation-invariance check), discarded weight, seconds per χ.

``gpu`` (issue 10, item 7): the cylinder step with the tensors on a GPU
(``MPOOptions.backend``, ``--backends`` torch and/or cupy, those installed) against numpy on
one CPU core, in one run. First the agreement: the 2 × 4 cylinder evolved to t = 1 at χ = 300
(nothing truncated) with numpy and with each GPU library, the largest difference of the site
magnetizations (rounding: ~1e-14). Then for each χ of ``--chis`` on the ``--cyl`` cylinder
(12 4), on one saturated random state (every bond at χ, decaying spectrum): one full fourth-order
step (δt = 0.25, column routing, rsvd) on each GPU library (after a warm-up step at χ = 16),
its splits counted, and ``--gates`` gates in the middle of the snake with numpy on the CPU;
the CPU step is projected as (seconds per split) × (splits per step) and the ratio CPU / GPU
printed with the card's name. Tests never need a GPU; this mode skips a library it cannot
import, and without any it prints the CPU rows alone (the projected CPU step at each χ, with
the splits per step counted on a χ = 16 step: they depend on the path, not on χ).

Usage: ``python benchmarks/mpo.py [step|projection|route|convergence|swaps|cylinder|gpu]
[--threads T] [--chis 64 128 256] [--N 40] [--svd-method svd|svd:eig|rsvd] [--chi 300] [--gates 20]
[--t-probe 3] [--t-final 20] [--Delta 2] [--tol 1e-4] [--Ns 40 80] [--Deltas 2 2.5]``
(the BLAS thread count is set before numpy loads; one thread is the faster setting on the
2-core machine, see ``MPOOptions.blas_threads``).
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("mode", nargs="?", default="step",
                    choices=["step", "projection", "route", "convergence", "swaps",
                             "cylinder", "gpu"])
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--chis", type=int, nargs="+", default=[64, 128, 256])
parser.add_argument("--N", type=int, default=None, help="40 (step) or 200 (projection)")
parser.add_argument("--svd-method", default="svd", choices=["svd", "svd:eig", "rsvd"])
parser.add_argument("--chi", type=int, default=300)
parser.add_argument("--gates", type=int, default=20)
parser.add_argument("--t-probe", type=float, default=3.0)
parser.add_argument("--t-final", type=float, default=20.0)
parser.add_argument("--Delta", type=float, default=2.0)
parser.add_argument("--tol", type=float, default=1e-4)
parser.add_argument("--Ns", type=int, nargs="+", default=[40, 80])
parser.add_argument("--Deltas", type=float, nargs="+", default=[2.0, 2.5])
parser.add_argument("--cyl", type=int, nargs=2, default=[12, 4])
parser.add_argument("--cyl-chi", type=int, default=32)
parser.add_argument("--keep-checkpoints", action="store_true",
                    help="cylinder: keep every χ's final state, so that a later run with a longer "
                         "ladder (same parameters, same DDLIB_CACHE) resumes from it")
parser.add_argument("--backends", nargs="+", default=["torch", "cupy"],
                    help="gpu: the array libraries to time against numpy")
parser.add_argument("--report-only", action="store_true",
                    help="convergence: print the table of the stored points, compute nothing")
args = parser.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import copy  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ddlib import Model, lattice, mpo, profiles  # noqa: E402

MODEL = Model(Delta=2.0, Omega=0.5, J=2.0)  # JZ = 4 on a chain (Fig. 2)
OLD_DT = 0.1  # the paper profile's δt before the Trotter-error measurement of book/mpo.md


def saturated_state(N, chi, rng, svd_method):
    """Random Pauli-coefficient MPS, every bond at min(χ, 4^k, 4^(N-k)), tensors Λ·B with B
    right-isometric and Λ = diag(e^{-m/40}) normalised: the two-site matrices of a sweep
    have the decaying spectra of a physical state (a flat random spectrum slows LAPACK's SVD
    ~1.3× and would flatter the new route)."""
    dims = [1] + [min(chi, 4**k, 4 ** (N - k)) for k in range(1, N)] + [1]
    state = mpo._PauliMPS(np.ones(4), N, chi, cutoff=0.0, scale=0.3, svd_method=svd_method)
    for k in range(N - 1, -1, -1):
        T = rng.standard_normal((dims[k], 4 * dims[k + 1]))
        if k > 0:
            lam = np.exp(-np.arange(dims[k]) / 40)
            T = (lam / np.linalg.norm(lam))[:, None] * np.linalg.qr(T.T)[0].T
        state.tensors[k] = T.reshape(dims[k], 4, dims[k + 1])
    return state


def print_machine(mode):
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"mode {mode}; threads: OMP/OPENBLAS/MKL = {args.threads}")


def step_mode():
    rng = np.random.default_rng(1)
    N = args.N or 40
    lat = lattice.chain(N, periodic=False)
    print_machine("step")
    print(f"N = {N}, order-2 step, dt = 0.1, two-site split: {args.svd_method!r}")
    layers = mpo._layers(lat)
    n2 = sum(len(layers[k]) for k, _ in mpo._trotter_sequence(2, 2, 0.1, 1))
    n4 = sum(len(layers[k]) for k, _ in mpo._trotter_sequence(2, 4, 0.1, 1))
    print(f"gates per step: order 2: {n2}, order 4 (Suzuki): {n4} (x{n4 / n2:.1f})")

    thetas: list[np.ndarray] = []
    original = mpo._PauliMPS._split

    def recording(self, theta, absorb):
        thetas.append(theta.copy())
        return original(self, theta, absorb)

    mpo._PauliMPS._split = recording
    print(f"{'chi':>5} {'step [s]':>10} {'SVD floor [s]':>14} {'ratio':>6} "
          f"{'peak mem [MB]':>14}")
    for chi in args.chis:
        stepper = mpo._Stepper(MODEL, lat, 0.1, 2, 0.3)
        state = saturated_state(N, chi, rng, args.svd_method)
        stepper.advance(state, 1)  # warm-up: gates, centre placement
        thetas.clear()
        tracemalloc.start()
        t0 = time.perf_counter()
        stepper.advance(state, 1)
        step = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        t0 = time.perf_counter()
        for theta in thetas:
            np.linalg.svd(theta, full_matrices=False)
        floor = time.perf_counter() - t0
        thetas.clear()
        print(f"{chi:>5} {step:>10.3f} {floor:>14.3f} {step / floor:>6.2f} {peak:>14.1f}")
    mpo._PauliMPS._split = original


def gate_window(state, lat, stepper, layer, tau, n_gates, threads=None, per_split=False):
    """Seconds per gate (per two-site split, swaps included, with ``per_split``) over
    ``n_gates`` consecutive gates of ``layer`` in the middle of the path, applied to a copy
    of ``state``."""
    bonds = mpo._layers(lat)[layer]
    bonds = bonds[len(bonds) // 2 - n_gates // 2:][:n_gates]
    trial = copy.deepcopy(state)
    trial._move_center(int(lat.bonds[bonds[0]][0]))
    before = trial.splits
    with threadpool_limits(threads, user_api="blas"):
        t0 = time.perf_counter()
        for b in bonds:
            trial.apply(*map(int, lat.bonds[b]), stepper.gate(b, tau))
        elapsed = time.perf_counter() - t0
    return elapsed / ((trial.splits - before) if per_split else len(bonds))


def projection_mode():
    N, chi = args.N or 200, args.chi
    paper = profiles.settings("mpo", "paper")
    dt, options = paper["dt"], mpo.MPOOptions(svd_method=paper["svd_method"])
    lat = lattice.chain(N, periodic=False)
    n_probe, n_total = int(round(args.t_probe / dt)), int(round(args.t_final / dt))
    print_machine("projection")
    print(f"N = {N}, chi = {chi}, order 4, dt = {dt}, split {options.svd_method!r}: the real run "
          f"from all spins down to t = {args.t_probe:g}, projected to t = {args.t_final:g}")
    s = options.pauli_scale
    state = mpo._PauliMPS(np.array([1.0, s, s, s]) * mpo._DOWN, N, chi, options.cutoff, s,
                          options.svd_method)
    stepper = mpo._Stepper(MODEL, lat, dt, 4, s)
    print(f"{'t':>6} {'step [s]':>9} {'max bond':>9} {'mean bond: layer 0':>19} {'layer 1':>8}")
    steps = []
    for n in range(1, n_probe + 1):
        t0 = time.perf_counter()
        stepper.advance(state, 1)
        steps.append(time.perf_counter() - t0)
        dims = np.array([T.shape[2] for T in state.tensors[:-1]])
        print(f"{n * dt:>6g} {steps[-1]:>9.1f} {dims.max():>9} {dims[0::2].mean():>19.0f} "
              f"{dims[1::2].mean():>8.0f}", flush=True)
    real = (sum(steps) + (n_total - n_probe) * np.mean(steps[-2:])) / 3600
    print(f"real run: {sum(steps) / 60:.1f} min to t = {args.t_probe:g}; projected to "
          f"t = {args.t_final:g}: {real:.2f} h on {args.threads} thread(s)")

    layers = mpo._layers(lat)
    print(f"\nper gate on the state at t = {args.t_probe:g}, {args.gates} gates per layer:")
    print(f"{'route':>12} {'dt':>5} {'s/gate L0':>10} {'s/gate L1':>10} {'projected [h]':>14}")
    projected = {}
    for name, method, route_dt in (("old: svd", "svd", OLD_DT),
                                   (f"new: {options.svd_method}", options.svd_method, dt)):
        sequence = mpo._trotter_sequence(2, 4, route_dt, int(round(args.t_final / route_dt)))
        route = mpo._Stepper(MODEL, lat, route_dt, 4, s)
        state.svd_method = method
        per_gate = [gate_window(state, lat, route, layer,
                                next(tau for k, tau in sequence if k == layer), args.gates)
                    for layer in (0, 1)]
        projected[name] = sum(per_gate[k] * len(layers[k]) for k, _ in sequence) / 3600
        print(f"{name:>12} {route_dt:>5g} {per_gate[0]:>10.3f} {per_gate[1]:>10.3f} "
              f"{projected[name]:>14.2f}")
    old, new = projected.values()
    print(f"ratio old/new: {old / new:.1f} (gate windows; the real run's projection above "
          f"is the figure for the profile)")

    state.svd_method = options.svd_method
    tau = next(tau for k, tau in mpo._trotter_sequence(2, 4, dt, 1) if k == 0)
    blas = {t: [gate_window(state, lat, stepper, layer, tau, args.gates, t) for layer in (0, 1)]
            for t in (1, 2)}
    print("BLAS threads, s/gate (layer 0, layer 1): "
          + "; ".join(f"{t}: {g[0]:.3f}, {g[1]:.3f}" for t, g in blas.items())
          + f"; two/one: {blas[2][0] / blas[1][0]:.2f}, {blas[2][1] / blas[1][1]:.2f}")


def route_mode():
    N, chi = args.N or 40, args.chi
    paper = profiles.settings("mpo", "paper")
    model = Model(Delta=args.Delta, Omega=0.5, J=2.0)
    opts = mpo.MPOOptions(svd_method=paper["svd_method"], tol=args.tol, record_every=0.5,
                          keep_state=False, checkpoint_every=None)
    lat = lattice.chain(N, periodic=False)
    print_machine("route")
    print(f"N = {N}, chi = {chi}, Delta = {args.Delta:g}, order 4, dt = {paper['dt']}, "
          f"{opts.svd_method}, stationary: |dmu_center| < {args.tol:g} over {opts.window:g}")
    out = {}
    for route in ("plain", "fast"):
        wall, cpu = time.perf_counter(), time.process_time()
        ss = mpo.steady_state(model, lat, chi, dt=paper["dt"], t_max=60.0, options=opts,
                              route=route)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out[route] = (ss, wall, cpu)
        stages = ", ".join(f"chi={g['chi']} dt={g['dt']:g} O{g['order']}: t={g['t']:g} "
                           f"({g['wall_time']:.1f} s)" for g in ss.stages)
        print(f"{route:>6}: wall {wall:7.1f} s, cpu {cpu:7.1f} s, mu = {np.round(ss.mu, 5)}, "
              f"converged {ss.converged}, |dmu/dt| {ss.drift:.1e}; {stages}", flush=True)
    (a, wa, ca), (b, wb, cb) = out["plain"], out["fast"]
    print(f"ratio plain/fast: wall {wa / wb:.1f}, cpu {ca / cb:.1f}; "
          f"max |mu_fast - mu_plain| = {np.abs(a.mu - b.mu).max():.1e} (central), "
          f"{np.abs(a.mu_sites - b.mu_sites).max():.1e} (any site)")


def convergence_mode():
    import json
    from pathlib import Path

    paper = profiles.settings("mpo", "paper")
    where = Path(__file__).parent / "results"
    where.mkdir(exist_ok=True)
    path = where / "mpo_convergence.json"
    done = json.loads(path.read_text()) if path.exists() else []
    have = {(d["Delta"], d["N"], d["chi"]) for d in done}
    print_machine("convergence")
    if args.report_only:
        return report_convergence(done)
    # every point's final checkpoint is kept: a rerun gets the stored points' MPS back at
    # once (the warm start of the next χ, whose resume key is that MPS's digest)
    opts = mpo.MPOOptions(svd_method=paper["svd_method"], tol=args.tol, record_every=0.5,
                          keep_state=True, checkpoint_every=120.0, keep_checkpoints=True)
    for Delta in args.Deltas:
        model = Model(Delta=Delta, Omega=0.5, J=2.0)
        for N in args.Ns:
            lat, previous = lattice.chain(N, periodic=False), None
            for chi in args.chis:
                wall, cpu = time.perf_counter(), time.process_time()
                ss = mpo.steady_state(model, lat, chi, dt=paper["dt"], t_max=60.0,
                                      options=opts, initial=previous)
                entry = {"Delta": Delta, "N": N, "chi": chi, "mu": ss.mu.tolist(),
                         "lambda_xx": ss.correlations.lambda_xx,
                         "sigma_xx": ss.correlations.sigma_xx, "converged": ss.converged,
                         "drift": ss.drift, "truncation_error": ss.truncation_error,
                         "wall_s": time.perf_counter() - wall,
                         "cpu_s": time.process_time() - cpu,
                         "t": [g["t"] for g in ss.stages], "dt": paper["dt"], "order": 4,
                         "tol": args.tol, "warm_start": previous is not None,
                         "machine": platform.node(), "load": os.getloadavg()[0]}
                previous = ss
                if (Delta, N, chi) in have:
                    continue
                print(json.dumps(entry), flush=True)
                done.append(entry)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(done, indent=1))
                os.replace(tmp, path)
    report_convergence(done)


def report_convergence(done):
    """Markdown table of the stored points; per Δ the smallest (N, χ) (by N χ², the cost of a
    step) within 1e-3 in the central μ and 2 % in Σ_xx of the largest stored (N, χ)."""
    print("| Δ | N | χ | μ_x | μ_y | μ_z | λ_xx | Σ_xx | discarded weight | time at χ [1/Γ] "
          "| CPU [s] |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for e in sorted(done, key=lambda e: (e["Delta"], e["N"], e["chi"])):
        mu = e["mu"]
        print(f"| {e['Delta']:g} | {e['N']} | {e['chi']} | {mu[0]:.5f} | {mu[1]:.5f} | "
              f"{mu[2]:.5f} | {e['lambda_xx']:.3f} | {e['sigma_xx']:.4f} | "
              f"{e['truncation_error']:.1e} | {e['t'][-1]:g} | {e['cpu_s']:.0f} |")
    for Delta in sorted({e["Delta"] for e in done}):
        points = [e for e in done if e["Delta"] == Delta]
        ref = max(points, key=lambda e: (e["N"], e["chi"]))

        def error(e, ref=ref):
            return (np.abs(np.array(e["mu"]) - ref["mu"]).max(),
                    abs(e["sigma_xx"] / ref["sigma_xx"] - 1))

        good = [e for e in points if e is not ref and error(e)[0] < 1e-3 and error(e)[1] < 0.02]
        best = min(good, key=lambda e: (e["N"] * e["chi"] ** 2, e["N"]), default=None)
        text = "none" if best is None else (
            f"N = {best['N']}, χ = {best['chi']} (|Δμ| = {error(best)[0]:.1e}, "
            f"ΔΣ_xx/Σ_xx = {error(best)[1]:.1%}, {best['cpu_s']:.0f} s CPU)")
        print(f"Δ = {Delta:g}, reference N = {ref['N']}, χ = {ref['chi']}: smallest within 1e-3 "
              f"in μ and 2 % in Σ_xx: {text}")


def swaps_mode():
    Lx, Ly = args.cyl
    chi, t_final = args.cyl_chi, args.t_probe
    paper = profiles.settings("mpo", "paper")
    dt = paper["dt"]
    lat = lattice.cylinder(Lx, Ly)
    model = Model(Delta=args.Delta, Omega=0.5, J=1.0)  # J𝒵 = 4 on the square lattice
    print_machine("swaps")
    print(f"cylinder {Lx} x {Ly}, chi = {chi}, Delta = {args.Delta:g}, order 4, dt = {dt}, "
          f"{paper['svd_method']}, from all spins down to t = {t_final:g}")
    n_steps = int(round(t_final / dt))
    s = 0.3
    out = {}
    for route in ("restore", "columns"):
        state = mpo._PauliMPS(np.array([1.0, s, s, s]) * mpo._DOWN, lat.N, chi, 1e-16, s,
                              paper["svd_method"])
        stepper = mpo._Stepper(model, lat, dt, 4, s, route)
        gates = sum(len(stepper.layers[k])
                    for k, _ in mpo._trotter_sequence(len(stepper.layers), 4, dt, n_steps))
        cpu = []
        for _ in range(n_steps):
            t0 = time.process_time()
            stepper.advance(state, 1)
            cpu.append(time.process_time() - t0)
        late = cpu[int(round(1.0 / dt)):] or cpu
        _, mu = state.magnetization()
        center = mpo._center_sites(lat)
        eta = state.two_point(int(center[0]))[0, 0]
        out[route] = {"swaps/gate": state.swaps / gates, "splits/step": state.splits / n_steps,
                      "s/step": float(np.mean(late)), "weight": state.discarded, "mu": mu,
                      "eta": eta, "bond": state.max_bond()}
        r = out[route]
        print(f"{route:>8}: swaps per gate {r['swaps/gate']:.2f}, splits per step "
              f"{r['splits/step']:.0f}, CPU per step {r['s/step']:.2f} s (t > 1), discarded "
              f"weight {r['weight']:.2e}, max bond {r['bond']}", flush=True)
    a, b = out["restore"], out["columns"]
    ok = np.isfinite(a["eta"])
    print(f"ratio restore/columns: swaps per gate {a['swaps/gate'] / b['swaps/gate']:.2f}, "
          f"splits {a['splits/step'] / b['splits/step']:.2f}, CPU per step "
          f"{a['s/step'] / b['s/step']:.2f}, discarded weight {a['weight'] / b['weight']:.2f}; "
          f"max |dmu| (any site) {np.abs(a['mu'] - b['mu']).max():.1e}, max |d eta_xx| "
          f"(central site) {np.abs(a['eta'] - b['eta'])[ok].max():.1e}")


def cylinder_mode():
    Lx, Ly = args.cyl
    paper = profiles.settings("mpo", "paper")
    lat = lattice.cylinder(Lx, Ly)
    model = Model(Delta=args.Delta, Omega=0.5, J=1.0)
    opts = mpo.MPOOptions(svd_method=paper["svd_method"], tol=args.tol, record_every=0.5,
                          checkpoint_every=120.0, keep_checkpoints=args.keep_checkpoints)
    print_machine("cylinder")
    print(f"cylinder {Lx} x {Ly}, Delta = {args.Delta:g}, chis {args.chis}, dt = {paper['dt']}, "
          f"order 4, tol {args.tol:g}, t_max per stage {args.t_final:g}")
    wall, cpu = time.perf_counter(), time.process_time()
    ladder = mpo.chi_ladder(model, lat, args.chis, dt=paper["dt"], t_max=args.t_final,
                            options=opts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for chi, ss in zip(args.chis, ladder, strict=True):
        centre = ss.mu_sites[ss.evolution.center_sites]
        print(f"chi = {chi:4d}: mu = {np.round(ss.mu, 5)}, spread over the central column(s) "
              f"{np.ptp(centre, axis=0).max():.1e}, discarded weight {ss.truncation_error:.1e}, "
              f"converged {ss.converged} (|dmu/dt| {ss.drift:.1e}), time at chi "
              f"{ss.stages[-1]['t']:g}, wall {ss.wall_time:.0f} s", flush=True)
    print(f"ladder: wall {wall:.0f} s, CPU {cpu:.0f} s")


def _sync(backend):
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    elif backend == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def gpu_mode():
    print_machine("gpu")
    usable = []
    for name in args.backends:
        try:
            where = mpo._Arrays(name).device
        except ValueError as err:
            print(f"{name}: skipped ({err})")
            continue
        usable.append(name)
        print(f"{name}: device {where}")
    if not usable:
        print("no GPU library usable: the CPU column alone (its projected step)")
    model = Model(Delta=args.Delta, Omega=0.5, J=1.0)
    if usable:  # agreement where nothing is truncated
        small = lattice.cylinder(2, 4)
        runs = {b: mpo.evolve(model, small, 300, 0.1, 1.0, 4, options=mpo.MPOOptions(
            svd_method="rsvd", backend=b, checkpoint_every=None)) for b in ["numpy", *usable]}
        for b in usable:
            print(f"agreement, 2 x 4 cylinder, chi = 300, t = 1: max |mu_{b} - mu_numpy| = "
                  f"{np.abs(runs[b].mu_sites - runs['numpy'].mu_sites).max():.1e} (discarded "
                  f"weight {runs['numpy'].truncation_error[-1]:.0e})", flush=True)
    Lx, Ly = args.cyl
    lat = lattice.cylinder(Lx, Ly)
    rng = np.random.default_rng(1)
    print(f"cylinder {Lx} x {Ly}, Delta = {args.Delta:g}, order 4, dt = 0.25, rsvd, "
          f"columns route")
    print(f"{'chi':>5} {'library':>8} {'splits/step':>12} {'GPU s/step':>11} "
          f"{'CPU s/split':>12} {'CPU s/step (proj.)':>19} {'CPU/GPU':>8}")
    # splits per step: a property of the path and the Trotter sequence, not of χ
    counter = saturated_state(lat.N, 16, rng, "rsvd")
    mpo._Stepper(model, lat, 0.25, 4, 0.3).advance(counter, 1)
    splits = counter.splits
    for chi in args.chis:
        host = saturated_state(lat.N, chi, rng, "rsvd")
        stepper = mpo._Stepper(model, lat, 0.25, 4, 0.3)
        cpu = gate_window(host, lat, stepper, 0, 0.125, args.gates, 1, per_split=True)
        print(f"{chi:>5} {'numpy':>8} {splits:>12} {'':>11} {cpu:>12.3f} "
              f"{cpu * splits:>19.0f}", flush=True)
        for b in usable:
            warm = mpo._PauliMPS.from_tensors(
                saturated_state(lat.N, 16, rng, "rsvd").tensors, 16, 0.0, 0.3, "rsvd",
                center=0, backend=b)
            mpo._Stepper(model, lat, 0.25, 4, 0.3).advance(warm, 1)
            state = mpo._PauliMPS.from_tensors(host.tensors, chi, 0.0, 0.3, "rsvd", center=0,
                                               backend=b)
            _sync(b)
            t0 = time.perf_counter()
            mpo._Stepper(model, lat, 0.25, 4, 0.3).advance(state, 1)
            _sync(b)
            gpu = time.perf_counter() - t0
            print(f"{chi:>5} {b:>8} {state.splits:>12} {gpu:>11.2f} {cpu:>12.3f} "
                  f"{cpu * state.splits:>19.0f} {cpu * state.splits / gpu:>8.1f}", flush=True)


if __name__ == "__main__":
    {"step": step_mode, "projection": projection_mode, "route": route_mode,
     "convergence": convergence_mode, "swaps": swaps_mode, "cylinder": cylinder_mode,
     "gpu": gpu_mode}[args.mode]()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"max resident memory of the process: {rss:.0f} MB")
