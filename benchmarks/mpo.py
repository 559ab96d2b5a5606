"""Benchmark of ddlib.mpo: time per Trotter step versus χ against its SVD floor.

A Trotter step of the MPO solver is a sweep of two-site gates, each followed by a truncated
SVD of a (4χ_l) × (4χ_r) matrix; those SVDs are the method's floor. For an N = 40 chain at the
paper's JZ = 4, Ω = 0.5, Δ = 2 and χ = 64, 128, 256 this script times one second-order step
(two layers, three half/full sweeps) on a state whose bonds are saturated at χ, records
the matrices the step decomposes, and times plain ``numpy.linalg.svd`` of matrices of the same
shapes in the same run: ratio = step / SVD floor (target ≤ 2 at χ = 256). A fourth-order
(Suzuki) step costs ``gates(S4)/gates(S2)`` times as much; the count is printed.

Usage: ``python benchmarks/mpo.py [--threads T] [--chis 64 128 256] [--N 40]
[--svd-method svd|svd:eig]``
(the BLAS thread count is set before numpy loads).
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--chis", type=int, nargs="+", default=[64, 128, 256])
parser.add_argument("--N", type=int, default=40)
parser.add_argument("--svd-method", default="svd", choices=["svd", "svd:eig"])
args = parser.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from ddlib import Model, lattice, mpo  # noqa: E402


def saturated_state(N, chi, rng):
    """Random Pauli-coefficient MPS with every bond at min(χ, 4^k, 4^(N-k))."""
    dims = [1] + [min(chi, 4**k, 4 ** (N - k)) for k in range(1, N)] + [1]
    state = mpo._PauliMPS(np.ones(4), N, chi, cutoff=0.0, scale=0.3, svd_method=args.svd_method)
    state.tensors = [rng.standard_normal((dims[k], 4, dims[k + 1])) for k in range(N)]
    return state


def main():
    rng = np.random.default_rng(1)
    model = Model(Delta=2.0, Omega=0.5, J=2.0)
    lat = lattice.chain(args.N, periodic=False)
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"threads: OMP/OPENBLAS/MKL = {args.threads}; N = {args.N}, order-2 step, dt = 0.1, "
          f"two-site split: quimb array_split(method={args.svd_method!r})")
    n2 = sum(len(mpo._layers(lat)[k]) for k, _ in mpo._trotter_sequence(2, 2, 0.1, 1))
    n4 = sum(len(mpo._layers(lat)[k]) for k, _ in mpo._trotter_sequence(2, 4, 0.1, 1))
    print(f"gates per step: order 2: {n2}, order 4 (Suzuki): {n4} (x{n4 / n2:.1f})")

    shapes: list[tuple] = []
    in_split = [0.0]
    original = mpo.array_split

    def recording_split(x, **kw):
        shapes.append(x.shape)
        t0 = time.perf_counter()
        out = original(x, **kw)
        in_split[0] += time.perf_counter() - t0
        return out

    mpo.array_split = recording_split
    print(f"{'chi':>5} {'step [s]':>10} {'SVD floor [s]':>14} {'ratio':>6} "
          f"{'in split [s]':>13} {'peak mem [MB]':>14}")
    for chi in args.chis:
        stepper = mpo._Stepper(model, lat, 0.1, 2, 0.3)
        state = saturated_state(args.N, chi, rng)
        stepper.advance(state, 1)  # warm-up: gates, centre placement
        shapes.clear()
        in_split[0] = 0.0
        tracemalloc.start()
        t0 = time.perf_counter()
        stepper.advance(state, 1)
        step = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        floor = 0.0
        for shape in shapes:
            m = rng.standard_normal(shape)
            t0 = time.perf_counter()
            np.linalg.svd(m, full_matrices=False)
            floor += time.perf_counter() - t0
        print(f"{chi:>5} {step:>10.3f} {floor:>14.3f} {step / floor:>6.2f} {in_split[0]:>13.3f} "
              f"{peak:>14.1f}")
    mpo.array_split = original
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"max resident memory of the process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
