"""Benchmark of ddlib.mpo: a Trotter step against its SVD floor, and the paper-profile cost.

Two modes.

``step`` (default): a Trotter step of the MPO solver is a sweep of two-site gates, each
followed by a truncated split of a (4χ_l) × (4χ_r) matrix; full SVDs of those matrices are the
floor of the original route. For an N = 40 chain at the paper's JZ = 4, Ω = 0.5, Δ = 2 and
χ = 64, 128, 256 this times one second-order step (two layers, three half/full sweeps) on a
state whose bonds are saturated at χ, records the matrices the step decomposes, and times plain
``numpy.linalg.svd`` of those matrices in the same run: ratio = step / SVD floor
(target ≤ 2 at χ = 256; below 1 with ``--svd-method rsvd``, which does not compute a full SVD).

``projection``: the paper-profile point (N = 200, χ = 300, t = 20, order 4). On a random
MPS with every bond at χ (and decaying two-site spectra), it times ``--gates`` consecutive
gates of the first layer of an order-4 step in the middle of the chain, once with the old
route (quimb's full SVD, δt = 0.1) and once with the profile's route (``rsvd`` at the
``"paper"`` profile's δt), and projects the run time as (time per gate) × (gates to t = 20,
Suzuki's S₄ with half-layers fused within and across steps). The bonds are saturated from
t = 0 (in a real run they grow first), so this is an upper bound. Old/new ratio printed.

Usage: ``python benchmarks/mpo.py [step|projection] [--threads T] [--chis 64 128 256]
[--N 40] [--svd-method svd|svd:eig|rsvd] [--chi 300] [--gates 20] [--t-final 20]``
(the BLAS thread count is set before numpy loads; the target's figure uses ``--threads 2``).
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("mode", nargs="?", default="step", choices=["step", "projection"])
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--chis", type=int, nargs="+", default=[64, 128, 256])
parser.add_argument("--N", type=int, default=None, help="40 (step) or 200 (projection)")
parser.add_argument("--svd-method", default="svd", choices=["svd", "svd:eig", "rsvd"])
parser.add_argument("--chi", type=int, default=300)
parser.add_argument("--gates", type=int, default=20)
parser.add_argument("--t-final", type=float, default=20.0)
args = parser.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

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


def projection_mode():
    N, chi = args.N or 200, args.chi
    paper = profiles.settings("mpo", "paper")
    lat = lattice.chain(N, periodic=False)
    print_machine("projection")
    print(f"N = {N}, chi = {chi}, order 4 (Suzuki, fused half-layers), t = {args.t_final:g}; "
          f"{args.gates} gates timed per route (state kept at unit norm)")
    routes = [("old: svd", "svd", OLD_DT), (f"new: {paper['svd_method']}",
                                            paper["svd_method"], paper["dt"])]
    print(f"{'route':>12} {'dt':>5} {'gates to t':>11} {'s/gate':>7} {'projected [h]':>14}")
    original = mpo._PauliMPS._split
    mpo._PauliMPS._split = lambda self, theta, absorb: original(
        self, theta / np.linalg.norm(theta), absorb)  # a random state's norm under/overflows
    layers = mpo._layers(lat)
    projected = {}
    for name, method, dt in routes:
        sequence = mpo._trotter_sequence(2, 4, dt, int(round(args.t_final / dt)))
        n_gates = sum(len(layers[layer]) for layer, _ in sequence)
        stepper = mpo._Stepper(MODEL, lat, dt, 4, 0.3)
        state = saturated_state(N, chi, np.random.default_rng(1), method)
        layer, tau = sequence[0]
        bonds = layers[layer][len(layers[layer]) // 2 - args.gates // 2:][:args.gates]
        state._move_center(int(lat.bonds[bonds[0]][0]))
        t0 = time.perf_counter()
        for b in bonds:
            state.apply(*map(int, lat.bonds[b]), stepper.gate(b, tau))
        per_gate = (time.perf_counter() - t0) / len(bonds)
        assert state.max_bond() == chi and np.isfinite(state.discarded)
        projected[name] = per_gate * n_gates / 3600
        print(f"{name:>12} {dt:>5g} {n_gates:>11} {per_gate:>7.3f} {projected[name]:>14.1f}")
        del state
    mpo._PauliMPS._split = original
    old, new = projected.values()
    print(f"ratio old/new: {old / new:.1f}; projected paper-profile point: {new:.1f} h on "
          f"{args.threads} thread(s) (bonds saturated from t = 0: an upper bound)")


if __name__ == "__main__":
    step_mode() if args.mode == "step" else projection_mode()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"max resident memory of the process: {rss:.0f} MB")
