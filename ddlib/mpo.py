r"""Matrix-product (MPO) solver for the vectorized density matrix (paper's MPO results, App. C).

The density matrix of N spins is expanded in the Pauli basis :math:`\sigma^0 = 1`,
:math:`\sigma^{1,2,3} = \sigma^{x,y,z}`,

.. math::

    \rho = 2^{-N}\sum_{a_1\dots a_N} c_{a_1\dots a_N}\,
        \sigma^{a_1}_1\otimes\cdots\otimes\sigma^{a_N}_N,\qquad
    c_{a_1\dots a_N} = \mathrm{tr}\big(\rho\,\sigma^{a_1}_1\cdots\sigma^{a_N}_N\big),

so that the coefficients :math:`c` are real (ρ is Hermitian) and form a "pure state" with four
states per site [paper's refs. 56, 49], stored as a matrix-product state (MPS) of bond
dimension χ. Expectation values are contractions with product vectors:
:math:`\mathrm{tr}\rho = c_{0\dots0}`, :math:`\langle\sigma^a_i\rangle = c_{0..a_i..0}/c_{0..0}`,
:math:`\langle\sigma^a_i\sigma^b_j\rangle = c_{0..a_i..b_j..0}/c_{0..0}`.

The Lindbladian of Eqs. (1)–(3) (or the Ising variant, Eq. B1) becomes a real matrix acting on
:math:`c`, a sum of bond generators

.. math::

    \mathcal L = \sum_{\langle i,j\rangle}\mathcal L_{ij},\qquad
    \mathcal L_{ij} = \frac{\ell_i}{d_i}\otimes 1 + 1\otimes\frac{\ell_j}{d_j} + \ell^{(2)}_{ij},

with the 4 × 4 single-site generator
:math:`(\ell_i)_{ab} = \tfrac12\mathrm{tr}\,\sigma^a\mathcal L_i(\sigma^b)` (drive, detuning,
decay), split evenly over the :math:`d_i` bonds of site i, and the 16 × 16 coupling generator
:math:`(\ell^{(2)})_{ab,cd} = \tfrac14\mathrm{tr}\,(\sigma^a\sigma^b)\,
(-i)[h_{ij}, \sigma^c\sigma^d]`. The bonds are grouped into layers of disjoint bonds (an edge
colouring: even/odd bonds for a chain), and :math:`e^{t\mathcal L}` is approximated by the
symmetric second-order Trotter step

.. math::

    S_2(\tau) = e^{\frac\tau2 \mathcal L_1}\cdots e^{\frac\tau2 \mathcal L_{k-1}}
        e^{\tau\mathcal L_k} e^{\frac\tau2 \mathcal L_{k-1}}\cdots e^{\frac\tau2\mathcal L_1}

or Suzuki's fourth-order fractal
:math:`S_4(\tau) = S_2(p\tau)^2 S_2((1-4p)\tau) S_2(p\tau)^2`,
:math:`p = 1/(4 - 4^{1/3})` (the paper uses a fourth-order scheme [58, 61]). Gates
:math:`e^{\tau\mathcal L_{ij}}` (non-unitary, real, trace preserving) are applied to
neighbouring MPS sites, contracted and split by a truncated SVD (bond dimension ≤ χ and discarded
weight per split ≤ ``cutoff``) at the orthogonality centre, where the discarded weight
:math:`\sum_{\rm discarded} s^2/\sum s^2` is the relative Hilbert–Schmidt error of the state.
Bonds between sites that are not neighbours on the MPS path (cylinders' snake path, periodic
chains) are applied by swapping the far site next to the near one and back; on a cylinder the
bonds between two neighbouring columns are applied together, the pairs meeting at the
columns' boundary, which leaves each column contiguous but possibly reversed on the path
(``MPOOptions.swap_route``; every output is in site order).

The tensors store :math:`s^{k}c` for a Pauli string with k non-identity factors
(``MPOOptions.pauli_scale`` s = 0.3), so that the truncation, which minimises the discarded
norm, favours the few-body strings that carry local observables; every output is converted
back to :math:`c`.

Steady states (:func:`steady_state`) are reached by a staged route (the transient at small χ
with a coarse second-order step, then the final step at doubling χ, each stage run until the
central μ is stationary), warm starts (``initial=``) and :func:`steady_states` for several
parameter values in worker processes; :func:`chi_ladder` is a convergence study in χ, each χ
started from the previous one. Long evolutions write checkpoints in the ddlib cache
(``MPOOptions.checkpoint_every``) and resume from them. The tensors may live on a GPU
(``MPOOptions.backend``: torch or cupy, through autoray).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import multiprocessing
import os
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields, replace
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from autoray import do, to_numpy
from quimb.tensor import MatrixProductState
from quimb.tensor.decomp import array_split
from threadpoolctl import threadpool_limits

from .cache import cache_dir, make_key
from .lattice import Lattice
from .model import SIGMA_MINUS, Model, bond_matrix, check_model, jump_rate, onsite_matrix
from .resources import available_memory
from .results import SteadyResult, SteadySummary, as_initial

__all__ = ["MPOOptions", "Correlations", "Evolution", "SteadyState", "pauli_generators",
           "evolve", "steady_state", "steady_states", "chi_ladder", "density_matrix",
           "memory_estimate"]

_SIGMA = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
                  dtype=complex)
_DOWN = np.array([1.0, 0.0, 0.0, -1.0])  # Pauli coefficients of |↓⟩⟨↓| = (1 − σᶻ)/2
_SUZUKI_P = 1.0 / (4.0 - 4.0 ** (1.0 / 3.0))


# --------------------------------------------------------------------------------------------
# superoperator layer
# --------------------------------------------------------------------------------------------

def _pauli_strings(n: int) -> np.ndarray:
    """All n-site Pauli strings, shape (4**n, 2**n, 2**n), the first site the slowest index."""
    out = _SIGMA
    for _ in range(n - 1):
        out = np.einsum("aij,bkl->abikjl", out, _SIGMA).reshape(
            out.shape[0] * 4, out.shape[1] * 2, out.shape[2] * 2)
    return out


def _pauli_matrix(h: np.ndarray, jumps: list[np.ndarray]) -> np.ndarray:
    r"""Real matrix :math:`M_{ab} = 2^{-n}\mathrm{tr}\,P_a\mathcal L(P_b)` of the Lindbladian
    :math:`\mathcal L\rho = -i[h,\rho] + \sum_k (L_k\rho L_k^\dagger
    - \frac12\{L_k^\dagger L_k,\rho\})` on n sites, in the Pauli-string basis."""
    n = int(round(math.log2(h.shape[0])))
    P = _pauli_strings(n)
    LP = -1j * (np.einsum("ij,bjk->bik", h, P) - np.einsum("bij,jk->bik", P, h))
    for L in jumps:
        LdL = L.conj().T @ L
        LP += (np.einsum("ij,bjk,kl->bil", L, P, L.conj().T)
               - 0.5 * np.einsum("ij,bjk->bik", LdL, P) - 0.5 * np.einsum("bij,jk->bik", P, LdL))
    M = np.einsum("aij,bji->ab", P, LP) / 2**n
    assert np.abs(M.imag).max() < 1e-12  # ρ Hermitian ⇒ real Pauli generator
    return np.ascontiguousarray(M.real)


def pauli_generators(model: Model) -> tuple[np.ndarray, np.ndarray]:
    r"""The single-site and coupling generators of the Lindbladian in the Pauli basis.

    With :math:`\rho = 2^{-N}\sum c_{a_1\dots a_N}\sigma^{a_1}\otimes\cdots` the master
    equation (1) reads :math:`\dot c = \big(\sum_i \ell_i + \sum_{\langle ij\rangle}
    \ell^{(2)}_{ij}\big)c` with

    .. math::

        (\ell)_{ab} = \tfrac12\,\mathrm{tr}\,\sigma^a\Big(-i\big[\tfrac\Delta2\sigma^z
            + \Omega\sigma^x, \sigma^b\big] + \Gamma\big(\sigma^-\sigma^b\sigma^+
            - \tfrac12\{\sigma^+\sigma^-,\sigma^b\}\big)\Big),

    .. math::

        (\ell^{(2)})_{ab,cd} = \tfrac14\,\mathrm{tr}\,(\sigma^a\otimes\sigma^b)\,
            (-i)\big[h_{ij}, \sigma^c\otimes\sigma^d\big],\qquad
        h_{ij} = -\tfrac J2(\sigma^x\sigma^x + \sigma^y\sigma^y)\ \text{(Eq. 2)}\quad\text{or}
        \quad -\tfrac J2\sigma^z\sigma^z\ \text{(Eq. B1)}.

    Parameters
    ----------
    model : Model

    Returns
    -------
    ell : ndarray, shape (4, 4)
        Single-site generator, index order (1, x, y, z).
    ell2 : ndarray, shape (16, 16)
        Coupling generator, two-site index ``4 * a_i + a_j``.
    """
    check_model(model)
    # H, the bond term and the jump operator as ddlib.model defines them (once, for every solver)
    ell = _pauli_matrix(onsite_matrix(model), [math.sqrt(jump_rate(model)) * SIGMA_MINUS])
    ell2 = _pauli_matrix(bond_matrix(model), [])
    return ell, ell2


def _bond_generators(model: Model, lattice: Lattice) -> list[np.ndarray]:
    """One 16 × 16 generator per bond of ``lattice.bonds``, single-site terms shared out."""
    ell, ell2 = pauli_generators(model)
    deg = lattice.degrees()
    one = np.eye(4)
    return [np.kron(ell / deg[i], one) + np.kron(one, ell / deg[j]) + ell2
            for i, j in lattice.bonds]


def _layers(lattice: Lattice) -> list[np.ndarray]:
    """Greedy edge colouring: lists of bond indices, the bonds of one layer disjoint."""
    layers: list[list[int]] = []
    busy: list[set] = []
    for b, (i, j) in enumerate(lattice.bonds):
        for k, used in enumerate(busy):
            if i not in used and j not in used:
                layers[k].append(b)
                used.update((i, j))
                break
        else:
            layers.append([b])
            busy.append({i, j})
    return [np.array(layer) for layer in layers]


def _trotter_sequence(n_layers: int, order: int, dt: float, n_steps: int):
    """Product formula for ``n_steps`` Trotter steps: a list of (layer, time) factors, applied
    first to last, with neighbouring factors of the same layer merged."""
    def s2(tau):
        half = [(k, tau / 2) for k in range(n_layers - 1)]
        return half + [(n_layers - 1, tau)] + half[::-1]

    if order == 2:
        step = s2(dt)
    else:
        p = _SUZUKI_P
        step = s2(p * dt) * 2 + s2((1 - 4 * p) * dt) + s2(p * dt) * 2
    merged: list[list] = []
    for layer, tau in step * n_steps:
        if merged and merged[-1][0] == layer:
            merged[-1][1] += tau
        else:
            merged.append([layer, tau])
    return [(layer, tau) for layer, tau in merged]


# --------------------------------------------------------------------------------------------
# the MPS of Pauli coefficients
# --------------------------------------------------------------------------------------------

BACKENDS = ("numpy", "torch", "cupy")
"""Array libraries the MPS tensors can live in (``MPOOptions.backend``)."""


class _Arrays:
    """The array library holding an MPS's tensors: numpy (the CPU), or torch (on the GPU
    where CUDA is available, else the CPU) or cupy (a GPU). The gates' QRs, SVDs and
    products go through autoray, which calls the library of the arrays it is given, so
    one code path serves all three; what is small or read out (gates, random sketches,
    singular values, observables, checkpoints) moves through numpy."""

    def __init__(self, name: str):
        if name not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
        self.name, self.device = name, None
        try:
            if name == "torch":
                import torch

                self.lib = torch
                self.device = "cuda" if torch.cuda.is_available() else "cpu"
            elif name == "cupy":
                import cupy

                self.lib = cupy
                self.device = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        except Exception as err:  # noqa: BLE001 - ImportError, or cupy without a device
            raise ValueError(f"backend {name!r} cannot be used here ({type(err).__name__}: "
                             f"{err}); the default 'numpy' needs nothing more") from None

    def __deepcopy__(self, memo):
        return self  # a handle on a library (a copied MPS keeps its tensors' library)

    def put(self, a):
        """A float64 array of this library from a numpy (or any) array."""
        if self.name == "numpy":
            return np.asarray(a, dtype=float)
        if self.name == "torch":
            return self.lib.as_tensor(np.asarray(a, dtype=float), device=self.device)
        return self.lib.asarray(a, dtype=float)

    @staticmethod
    def get(a) -> np.ndarray:
        """The numpy copy of an array of this library (the array itself for numpy)."""
        return a if isinstance(a, np.ndarray) else np.asarray(to_numpy(a))


_NUMPY = _Arrays("numpy")


def _sketch_size(chi: int) -> int:
    """Sketch size of the randomized split: χ plus 10 % (at least 10) extra directions."""
    return chi + max(10, chi // 10)


def _svd(a):
    """Thin SVD by LAPACK's divide and conquer (gesdd); where that does not converge (it
    happened once in hours of 12 × 4 evolution at χ = 128), by the slower, more robust
    gesvd. An array of another library: that library's SVD."""
    if not isinstance(a, np.ndarray):
        return do("linalg.svd", a, full_matrices=False)
    try:
        return np.linalg.svd(a, full_matrices=False)
    except np.linalg.LinAlgError:
        return scipy.linalg.svd(a, full_matrices=False, lapack_driver="gesvd")


def _randomized_split(theta, chi: int, cutoff: float, absorb: str,
                      rng: np.random.Generator, arrays: _Arrays = _NUMPY):
    r"""Truncated split :math:`\theta \approx UV` of rank ≤ χ by a randomized range finder
    with one power iteration (Halko, Martinsson & Tropp, SIAM Rev. 53, 217 (2011), Alg. 4.3).

    With a Gaussian Ω of k = χ + p columns, :math:`Q = \mathrm{qr}(\theta\theta^T
    \mathrm{qr}(\theta\Omega))` spans the dominant left singular space (the power iteration
    sharpens the spectral decay beyond rank k), :math:`Q^T\theta = \tilde U s V^T` is a
    small k × n SVD, and the kept factors are :math:`U = Q\tilde U_{:, <\chi}`,
    :math:`s V^T_{<\chi}` (``absorb="right"``; the transpose for ``"left"``). Cost: four
    (m × n × k) products, two m × k QRs and a k × n SVD instead of the m × n SVD. The
    discarded weight is exact, :math:`w = 1 - \sum_{\rm kept}s^2/\|\theta\|^2` (an
    orthogonal projection), so the truncation stays measured; the ``cutoff`` drops the tail
    of the approximate s.

    θ may be an array of another library (``arrays``: torch, cupy); the Gaussian Ω is drawn
    by ``rng`` on the host either way, so every library sees the same sketch.

    Returns
    -------
    left : array, shape (m, χ')
    right : array, shape (χ', n)
    weight : float
        Relative discarded weight w.
    """
    x = theta if absorb == "right" else theta.T
    omega = arrays.put(rng.standard_normal((x.shape[1], _sketch_size(chi))))
    Q = do("linalg.qr", x @ omega)[0]
    Q = do("linalg.qr", x @ (x.T @ Q))[0]  # QR in between: s², not s³, must beat rounding
    Ut, s, Vt = _svd(Q.T @ x)
    flat = x.reshape(-1)
    norm2 = float(do("vdot", flat, flat))
    tail = norm2 - np.cumsum(arrays.get(s) ** 2)  # discarded weight (× ‖θ‖²) keeping 1, 2, …
    keep = min(chi, 1 + int(np.count_nonzero(tail > cutoff * norm2)), len(tail))
    left, right = Q @ Ut[:, :keep], s[:keep, None] * Vt[:keep]
    weight = max(tail[keep - 1], 0.0) / norm2
    return (left, right, weight) if absorb == "right" else (right.T, left.T, weight)


_SWAP = np.eye(16).reshape(4, 4, 4, 4).transpose(1, 0, 2, 3).copy()


class _PauliMPS:
    """Real MPS (tensors of shape (χ_left, 4, χ_right)) with a tracked orthogonality centre."""

    def __init__(self, local: np.ndarray, N: int, chi: int, cutoff: float, scale: float,
                 svd_method: str = "svd", backend: str = "numpy"):
        self.arrays = _NUMPY if backend == "numpy" else _Arrays(backend)
        self.tensors = [self.arrays.put(local.reshape(1, 4, 1).copy()) for _ in range(N)]
        self.center = 0
        # the site held by each MPS position (the column routing of cylinders permutes the
        # sites within columns) and its inverse; outputs are always in site order
        self.order = np.arange(N)
        self.position = np.arange(N)
        self.splits = self.swaps = 0  # two-site splits and the swaps among them (benchmarks)
        self.chi, self.cutoff, self.scale, self.svd_method = chi, cutoff, scale, svd_method
        self.discarded = 0.0
        self.rng = np.random.default_rng(0)  # sketches of "rsvd": reproducible runs

    def _move_center(self, k: int) -> None:
        T = self.tensors
        while self.center < k:
            c = self.center
            l, d, r = T[c].shape
            Q, R = do("linalg.qr", T[c].reshape(l * d, r))
            T[c] = Q.reshape(l, d, -1)
            T[c + 1] = do("tensordot", R, T[c + 1], axes=([1], [0]))
            self.center += 1
        while self.center > k:
            c = self.center
            l, d, r = T[c].shape
            Q, R = do("linalg.qr", T[c].reshape(l, d * r).T)
            T[c] = Q.T.reshape(-1, d, r)
            T[c - 1] = do("tensordot", T[c - 1], R.T, axes=([2], [0]))
            self.center -= 1

    def _apply_adjacent(self, k: int, G: np.ndarray, absorb: str) -> None:
        """Apply the gate G[o_k, o_k+1, i_k, i_k+1] to sites (k, k+1) and split back, leaving
        the centre on k+1 (``absorb="right"``) or k."""
        self._move_center(k if self.center <= k else k + 1)
        A, B = self.tensors[k], self.tensors[k + 1]
        l, r = A.shape[0], B.shape[2]
        theta = do("tensordot", A, B, axes=([2], [0]))
        theta = do("tensordot", theta, self.arrays.put(G),
                   axes=((1, 2), (2, 3)))  # (l, r, o_k, o_k+1)
        U, V = self._split(do("transpose", theta, (0, 2, 3, 1)).reshape(l * 4, 4 * r), absorb)
        self.splits += 1
        self.tensors[k] = U.reshape(l, 4, -1)
        self.tensors[k + 1] = V.reshape(-1, 4, r)
        self.center = k + 1 if absorb == "right" else k

    def _split(self, theta, absorb: str):
        """Truncated θ ≈ UV by ``svd_method``, the discarded weight added to the total.
        Another library's θ is split there by ``rsvd``; quimb's SVDs (and splits too small
        for a sketch) run on a numpy copy."""
        if self.svd_method == "rsvd" and _sketch_size(self.chi) <= min(theta.shape) // 2:
            U, V, weight = _randomized_split(theta, self.chi, self.cutoff, absorb, self.rng,
                                             self.arrays)
            self.discarded += weight
            return U, V
        theta = self.arrays.get(theta)
        info = {"error": None}
        method = "svd" if self.svd_method == "rsvd" else self.svd_method
        U, _, V = array_split(theta, method=method, absorb=absorb, max_bond=self.chi,
                              cutoff=self.cutoff, cutoff_mode="rsum2", info=info)
        if info["error"]:
            self.discarded += float(info["error"]) ** 2 / float(np.vdot(theta, theta))
        return self.arrays.put(U), self.arrays.put(V)

    def host(self) -> list[np.ndarray]:
        """The tensors as numpy arrays (themselves for the numpy backend)."""
        return [self.arrays.get(T) for T in self.tensors]

    def swap(self, k: int, absorb: str) -> None:
        """Exchange the sites held by positions k and k+1 (one split)."""
        self._apply_adjacent(k, _SWAP, absorb)
        self.swaps += 1
        a, b = self.order[k], self.order[k + 1]
        self.order[k], self.order[k + 1] = b, a
        self.position[a], self.position[b] = k + 1, k

    def apply(self, i: int, j: int, G: np.ndarray) -> None:
        """Apply the two-site gate G[o_i, o_j, in_i, in_j] to sites i and j (wherever they are
        on the MPS), swapping the farther one next to the nearer one and back if needed.

        Swapping back after every gate keeps the sites where they were: tracking the
        permutation instead (leaving j where the gate put it) saves 30–40 % of the swaps on
        3 × 4 – 12 × 4 cylinders but doubles the discarded weight at fixed χ (measured; see
        ``benchmarks/README.md``); the column routing of :class:`_Stepper` saves more while
        keeping every column contiguous."""
        p, q = int(self.position[i]), int(self.position[j])
        if p > q:
            p, q, G = q, p, G.transpose(1, 0, 3, 2)
        if q == p + 1:
            self._apply_adjacent(p, G, "right" if self.center <= p else "left")
            return
        self._move_center(q)
        for k in range(q - 1, p, -1):
            self._apply_adjacent(k, _SWAP, "left")
        self._apply_adjacent(p, G, "right")
        for k in range(p + 1, q):
            self._apply_adjacent(k, _SWAP, "right")
        self.swaps += 2 * (q - p - 1)

    def restore(self) -> None:
        """Bring every site back to its own position (adjacent swaps, bubble sort)."""
        moved = True
        while moved:
            moved = False
            for k in range(len(self.order) - 1):
                if self.order[k] > self.order[k + 1]:
                    self.swap(k, "right" if self.center <= k else "left")
                    moved = True

    @classmethod
    def from_tensors(cls, tensors: list[np.ndarray], chi: int, cutoff: float, scale: float,
                     svd_method: str = "svd", center: int | None = None,
                     backend: str = "numpy") -> _PauliMPS:
        """An MPS from stored tensors (shape (χ_l, 4, χ_r), already weighted by ``scale``);
        ``center=None`` brings an arbitrary MPS into canonical form (QR sweep)."""
        out = cls(np.ones(4), len(tensors), chi, cutoff, scale, svd_method, backend)
        out.tensors = [out.arrays.put(np.array(T, dtype=float)) for T in tensors]
        if center is None:
            out.center = 0
            out._move_center(len(tensors) - 1)
        else:
            out.center = int(center)
        return out

    @classmethod
    def product(cls, mu_sites: np.ndarray, chi: int, cutoff: float, scale: float,
                svd_method: str = "svd", backend: str = "numpy") -> _PauliMPS:
        r"""The product state :math:`\bigotimes_i\frac12(1 + \vec\mu_i\cdot\vec\sigma)`,
        Pauli coefficients :math:`(1, \mu^x_i, \mu^y_i, \mu^z_i)` per site."""
        local = np.concatenate([np.ones((len(mu_sites), 1)), scale * np.asarray(mu_sites)], 1)
        return cls.from_tensors([c.reshape(1, 4, 1) for c in local], chi, cutoff, scale,
                                svd_method, center=0, backend=backend)

    def max_bond(self) -> int:
        return max(T.shape[2] for T in self.tensors)

    def environments(self):
        """Left and right contractions with the identity string (the partial traces)."""
        T = self.host()
        N = len(T)
        left, right = [np.ones(1)], [np.ones(1)]
        for k in range(N):
            left.append(left[-1] @ T[k][:, 0, :])
            right.append(T[N - 1 - k][:, 0, :] @ right[-1])
        return left, right[::-1]

    def magnetization(self, envs=None) -> tuple[float, np.ndarray]:
        """tr ρ and ⟨σᵃ_i⟩, shape (N, 3)."""
        left, right = envs if envs is not None else self.environments()
        trace = float(left[-1][0])
        mu = np.empty((len(self.tensors), 3))
        mu[self.order] = [np.einsum("l,lar,r->a", left[k], T[:, 1:, :], right[k + 1])
                          for k, T in enumerate(self.host())]
        return trace, mu / (trace * self.scale)

    def two_point(self, ref: int, envs=None) -> np.ndarray:
        r""":math:`\langle\sigma^a_{ref}\sigma^b_j\rangle`, shape (3, 3, N) (NaN at j = ref),
        for the site ``ref`` (indices are sites, wherever they sit on the MPS)."""
        left, right = envs if envs is not None else self.environments()
        T = self.host()
        N = len(T)
        ref = int(self.position[ref])
        out = np.full((3, 3, N), np.nan)
        w = np.einsum("l,lar->ar", left[ref], T[ref][:, 1:, :])
        for j in range(ref + 1, N):
            out[:, :, j] = np.einsum("ar,rbs,s->ab", w, T[j][:, 1:, :], right[j + 1])
            w = w @ T[j][:, 0, :]
        u = np.einsum("lar,r->al", T[ref][:, 1:, :], right[ref + 1])
        for j in range(ref - 1, -1, -1):
            out[:, :, j] = np.einsum("l,lbr,ar->ab", left[j], T[j][:, 1:, :], u)
            u = u @ T[j][:, 0, :].T
        sites = np.empty_like(out)
        sites[:, :, self.order] = out
        return sites / (left[-1][0] * self.scale**2)

    def to_quimb(self) -> MatrixProductState:
        """The Pauli coefficients c as a quimb MPS in site order (a permuted state is
        restored on a copy: this one is left as it is)."""
        state = self
        if np.any(self.order != np.arange(len(self.order))):
            state = copy.deepcopy(self)
            state.restore()
        unscale = np.array([1.0] + [1.0 / self.scale] * 3)
        arrays = [(T * unscale[:, None]).transpose(0, 2, 1) for T in state.host()]
        arrays[0], arrays[-1] = arrays[0][0], arrays[-1][:, 0, :]  # N >= 2 (lattices)
        return MatrixProductState(arrays, shape="lrp")


def density_matrix(state: MatrixProductState) -> np.ndarray:
    r"""Dense ρ (shape (2^N, 2^N), site 0 the leftmost factor) from the Pauli-coefficient MPS
    ``state`` of a result (``Evolution.state``): :math:`\rho = 2^{-N}\sum c\,\sigma\cdots`.
    For N <= 12 (reference checks): the 4^N coefficients are turned into ρ one site at a
    time, 4^N complex numbers at every stage (0.27 GB at N = 12)."""
    if not isinstance(state, MatrixProductState):
        raise TypeError(f"state must be a quimb MatrixProductState (Evolution.state), got "
                        f"{type(state).__name__}")
    if state.L > 12:
        raise ValueError(f"state has N = {state.L} sites; a dense ρ is built for N <= 12 only")
    N = state.L
    rho = np.asarray(state.to_dense()).reshape((4,) * N).astype(complex)
    for _ in range(N):  # the Pauli index of one site at a time → its (i, j); 4^N numbers
        rho = np.tensordot(rho, _SIGMA, axes=([0], [0]))
    # axes now (i_0, j_0, i_1, j_1, …): rows are the i's, columns the j's
    rho = rho.transpose([2 * n for n in range(N)] + [2 * n + 1 for n in range(N)])
    return rho.reshape(2**N, 2**N) / 2**N


class _Stepper:
    r"""Trotter propagation of a :class:`_PauliMPS`: gates e^{τ ℒ_ij} (cached per bond and τ,
    in the basis weighted by ``scale``), layers swept alternately up and down the path.

    ``route="columns"`` (cylinders): the bonds of one layer that join two neighbouring columns
    x, x+1 (all L_y of them, a perfect matching) are applied together. On the snake path the
    two columns hold their partners in mirrored order (a_0 … a_{L-1} b_{L-1} … b_0, bond k at
    distance 2k+1), and one gate at a time, each swapped next to its partner and back, costs
    :math:`\sum_k (4k + 1) = 2L^2 - L` splits (28 at L = 4). Instead the pairs meet at the
    boundary of the two columns innermost first, each a_k moved right past the pairs already
    met and b_k left past theirs: :math:`L(L-1)` swaps and L gates, :math:`L^2` splits (16),
    and both columns end reversed, each still contiguous on the MPS (the bipartitions between
    columns are those of the snake). Two columns in the same orientation (a_0 … a_{L-1}
    b_0 … b_{L-1}, which the reversals produce) are interleaved, b_k moved next to a_k for
    k = 0, 1, …, gated, and moved back: again :math:`L^2` splits, orientation kept. Both are
    the fewest splits that apply the L gates of the two columns and leave each column
    contiguous (exhaustive search at L = 2, 3, 4, see ``benchmarks/README.md``), and the bonds
    inside a column cost the same in either orientation. ``route="restore"``: every gate on
    its own, swapped and back (the sites never move).
    """

    def __init__(self, model: Model, lattice: Lattice, dt: float, order: int, scale: float,
                 route: str = "columns"):
        w = np.kron(*[np.array([1.0] + [scale] * 3)] * 2)
        self.generators = [w[:, None] * L / w[None, :] for L in _bond_generators(model, lattice)]
        self.layers = _layers(lattice)
        self.bonds = lattice.bonds
        self.dt, self.order = dt, order
        self.gates: dict[tuple, np.ndarray] = {}
        self.ascending = True
        self.units = None  # per layer: groups of bonds applied together (column routing)
        if route == "columns":
            self.units = [_column_blocks(lattice, layer) for layer in self.layers]
            if all(len(u) == 1 for units in self.units for u in units):
                self.units = None  # nothing to route together (chains): the plain sweep

    def gate(self, b: int, tau: float) -> np.ndarray:
        if (b, tau) not in self.gates:
            self.gates[b, tau] = scipy.linalg.expm(tau * self.generators[b]).reshape(4, 4, 4, 4)
        return self.gates[b, tau]

    def sweep(self, state: _PauliMPS, layer: int, tau: float) -> None:
        """Apply e^{τ ℒ_ij} for every bond of one layer, along the path in alternate senses."""
        if self.units is None:
            members = self.layers[layer] if self.ascending else self.layers[layer][::-1]
            for b in members:
                i, j = self.bonds[b]
                state.apply(int(i), int(j), self.gate(b, tau))
        else:
            pos = state.position
            units = sorted(self.units[layer], reverse=not self.ascending,
                           key=lambda u: min(pos[self.bonds[b][0]] for b in u))
            for unit in units:
                if len(unit) == 1:
                    i, j = self.bonds[unit[0]]
                    state.apply(int(i), int(j), self.gate(unit[0], tau))
                else:
                    self._columns(state, unit, tau)
        self.ascending = not self.ascending

    def _columns(self, state: _PauliMPS, unit: list[int], tau: float) -> None:
        """The gates joining two neighbouring columns (see the class docstring)."""
        pos = state.position
        pairs = {}  # left position -> (right position, gate oriented left, right)
        for b in unit:
            i, j = self.bonds[b]
            p, q, G = int(pos[i]), int(pos[j]), self.gate(b, tau)
            if p > q:
                p, q, G = q, p, G.transpose(1, 0, 3, 2)
            pairs[p] = (q, G)
        L = len(pairs)
        s = min(pairs)
        if sorted(pairs) != list(range(s, s + L)) \
                or sorted(q for q, _ in pairs.values()) != list(range(s + L, s + 2 * L)):
            for b in unit:  # not two contiguous columns: one gate at a time
                i, j = self.bonds[b]
                state.apply(int(i), int(j), self.gate(b, tau))
            return
        if all(q == 2 * s + 2 * L - 1 - p for p, (q, _) in pairs.items()):  # mirrored
            mid = s + L - 1  # the last position of the left column
            for m in range(L):  # pair m: left site at mid − m, right site at mid + 1 + m
                for k in range(mid - m, mid):  # right past the m pairs met so far
                    state.swap(k, "right")
                for k in range(mid + m + 1, mid + 1, -1):  # left past theirs
                    state.swap(k - 1, "left")
                state._apply_adjacent(mid, pairs[mid - m][1],
                                      "right" if state.center <= mid else "left")
        elif all(q == p + L for p, (q, _) in pairs.items()):  # same orientation
            for k in range(L):  # b_k (at s + L + k) next to a_k (at s + 2k)
                for c in range(s + L + k, s + 2 * k + 1, -1):
                    state.swap(c - 1, "left")
                state._apply_adjacent(s + 2 * k, pairs[s + k][1],
                                      "right" if state.center <= s + 2 * k else "left")
            for k in range(L - 2, -1, -1):  # and back
                for c in range(s + 2 * k + 1, s + L + k):
                    state.swap(c, "right")
        else:
            for b in unit:
                i, j = self.bonds[b]
                state.apply(int(i), int(j), self.gate(b, tau))

    def advance(self, state: _PauliMPS, n_steps: int) -> None:
        """Apply ``n_steps`` Trotter steps of length dt (one merged product formula)."""
        for layer, tau in _trotter_sequence(len(self.layers), self.order, self.dt, n_steps):
            self.sweep(state, layer, tau)


def _column_blocks(lattice: Lattice, layer: np.ndarray) -> list[list[int]]:
    """The bonds of one layer grouped for the column routing: all bonds of the layer between
    columns x and x+1 of a cylinder form one group when they pair every site of both columns;
    every other bond is a group of its own."""
    groups: list[list[int]] = []
    if lattice.kind != "cylinder" or lattice.coords is None:
        return [[int(b)] for b in layer]
    x = lattice.coords[:, 0]
    Ly = int(np.sum(x == 0))
    by_column: dict[int, list[int]] = {}
    for b in layer:
        i, j = lattice.bonds[b]
        if abs(int(x[i]) - int(x[j])) == 1:
            by_column.setdefault(int(min(x[i], x[j])), []).append(int(b))
        else:
            groups.append([int(b)])
    for members in by_column.values():
        sites = {int(v) for b in members for v in lattice.bonds[b]}
        if len(members) == Ly >= 2 and len(sites) == 2 * Ly:
            groups.append(members)
        else:
            groups.extend([b] for b in members)
    return groups


# --------------------------------------------------------------------------------------------
# solver API
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class MPOOptions:
    """Options of :func:`evolve`, :func:`steady_state` and :func:`steady_states`.

    Parameters
    ----------
    cutoff : float, default 1e-16
        Largest relative discarded weight :math:`\\sum_{\\rm disc.} s^2/\\sum s^2` per SVD
        (besides the bond dimension χ). A weight w moves amplitudes by ~√w, and the trace is
        a small part of the Hilbert–Schmidt norm of a mixed state, so keep it tiny.
    record_every : float or None
        Time between recorded observables (a multiple of dt); None records every step.
        Recording costs one contraction of the MPS (:math:`O(N\\chi^2)`), negligible next to
        a step's gates (:math:`O(N\\chi^3)`).
    tol : float, default 1e-4
        Stationarity criterion: the central magnetization moved less than ``tol`` (max norm)
        over the last ``window`` of time.
    window : float, default 2.0
        Length of that time window [1/Γ].
    pauli_scale : float, default 0.3
        Weight s of the non-identity Pauli components in the stored tensors,
        :math:`\\tilde c_{a_1\\dots a_N} = s^{\\#\\{i: a_i\\neq0\\}}c_{a_1\\dots a_N}` (a
        diagonal change of local basis, undone in all outputs). The SVD truncation then
        minimises an error norm in which a Pauli string of weight k counts :math:`s^{2k}`,
        so it spends the bond dimension on the few-body correlations that set the
        observables rather than on many-body strings; s = 1 is the plain Hilbert–Schmidt
        norm. At JZ = 4 (N = 8 and 24 chains) s = 0.3 gains 7–20× in accuracy at fixed χ and
        keeps tr ρ far better (see ``book/mpo.md``).
    svd_method : {"svd", "svd:eig", "rsvd"}
        Decomposition of the (4χ) × (4χ) two-site tensor: quimb's LAPACK SVD, quimb's
        eigenvectors of :math:`\\theta\\theta^T` (about 1.4× faster for large χ; singular
        values below ~1e-8 of the largest lose precision, which only matters for cutoff-free
        exact runs), or a randomized range finder with one power iteration that computes only
        the χ kept directions (``rsvd``: a gate 2.5–3× faster at χ = 256–300, discarded
        weight within 2 % of the optimal one and reported exactly; used where χ + p ≤ half
        the matrix, LAPACK's SVD elsewhere). See ``benchmarks/mpo.py``.
    keep_state : bool, default True
        Return the final MPS (``Evolution.state``); False saves memory and disk when results
        are cached (χ = 300, N = 200 is ~0.6 GB). A :class:`SteadyState` without its state
        still warm-starts (``initial=``) from the product state of its site magnetizations.
    blas_threads : int or None, default 1
        BLAS threads while the gates are applied (threadpoolctl); None leaves the process's
        setting. A gate's matrices (at most (4χ) × (4χ)) are too small for threaded BLAS to
        pay: on the book's 2-core machine two OpenBLAS threads made a χ = 300 gate 1.7× (4χ
        × 4χ split) to 3.7× (2χ × 2χ) slower than one (``benchmarks/mpo.py``), so the
        default is one thread and a second core is better spent on another parameter point
        (:func:`steady_states`).
    warmup_chi : int, default 16
        Fast route of :func:`steady_state`: bond dimension of the first stage; each further
        stage doubles it until the requested χ (stages below χ only).
    warmup_dt : float, default 0.5
        Fast route: Trotter step of the warm-up stages (second order, ``warmup_tol``).
    warmup_tol : float, default 1e-3
        Fast route: stationarity tolerance of the warm-up stages (over ``window``).
    checkpoint_every : float or None, default 300
        Seconds of wall time between checkpoints of a running evolution (MPS tensors, time,
        recorded observables, parameters) in ``ddlib.cache.cache_dir()/mpo-checkpoints``;
        one is also written at the end of a stage of :func:`steady_state` that ran this long
        or was resumed, so that the next stage resumes from there. A rerun with the same
        parameters resumes from the last one. None (or the cache switched off) writes none.
    keep_checkpoints : bool, default False
        Keep the checkpoint of a finished run (its final MPS, e.g. the warm start of the next
        χ of a convergence study after an interruption; a rerun then returns at once). False
        deletes it once the run is complete (it is ~0.6 GB at N = 200, χ = 300).
    swap_route : {"columns", "restore"}, default "columns"
        How the bonds between far-apart sites of a cylinder's snake path are applied:
        ``"columns"`` applies the L_y bonds between two neighbouring columns together, the
        pairs meeting at the columns' boundary, and leaves each column contiguous but possibly
        reversed (L_y² splits per column pair instead of 2L_y² − L_y: 1.7× fewer swaps on
        L_y = 4, see :class:`_Stepper` and ``benchmarks/mpo.py swaps``); ``"restore"`` swaps
        each far site next to its partner and back. The outputs are in site order either
        way; chains have no far bonds and are unaffected.
    backend : {"numpy", "torch", "cupy"}, default "numpy"
        Array library of the MPS tensors and the gates' QR, SVD and products: ``"torch"``
        runs them on a CUDA GPU where PyTorch sees one (else on the CPU), ``"cupy"`` on a
        GPU; observables, checkpoints and small splits go through numpy, so results,
        caches and checkpoints are shared with the numpy runs (they agree to rounding,
        as with another number of BLAS threads). Needs that library installed (it is not a
        ddlib requirement); the sketch of ``svd_method="rsvd"``, the method to use on a
        GPU, is drawn on the host, the same for every library. See ``benchmarks/mpo.py gpu``.
    """

    cutoff: float = 1e-16
    record_every: float | None = None
    tol: float = 1e-4
    window: float = 2.0
    pauli_scale: float = 0.3
    svd_method: str = "svd"
    keep_state: bool = True
    blas_threads: int | None = 1
    warmup_chi: int = 16
    warmup_dt: float = 0.5
    warmup_tol: float = 1e-3
    checkpoint_every: float | None = 300.0
    keep_checkpoints: bool = False
    swap_route: str = "columns"
    backend: str = "numpy"

    def __post_init__(self):
        for name in ("cutoff", "tol", "window", "warmup_tol"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        p = self.pauli_scale
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 < p <= 1:
            raise ValueError(f"pauli_scale must be a number in (0, 1], got {p!r}")
        if self.swap_route not in ("columns", "restore"):
            raise ValueError("swap_route must be 'columns' or 'restore', got "
                             f"{self.swap_route!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.svd_method not in ("svd", "svd:eig", "rsvd"):
            raise ValueError("svd_method must be 'svd', 'svd:eig' or 'rsvd', got "
                             f"{self.svd_method!r}")
        for name in ("record_every", "checkpoint_every"):
            r = getattr(self, name)
            if r is not None and (isinstance(r, bool) or not isinstance(r, Real)
                                  or not math.isfinite(r) or r < 0
                                  or (r == 0 and name == "record_every")):
                raise ValueError(f"{name} must be None or a number > 0, got {r!r}")
        w = self.warmup_dt
        if isinstance(w, bool) or not isinstance(w, Real) or not math.isfinite(w) or w <= 0:
            raise ValueError(f"warmup_dt must be a finite number > 0, got {w!r}")
        for name in ("blas_threads", "warmup_chi"):
            b = getattr(self, name)
            if (b is not None or name == "warmup_chi") and (
                    isinstance(b, bool) or not isinstance(b, Integral) or b < 1):
                raise ValueError(f"{name} must be {'None or ' if name[0] == 'b' else ''}"
                                 f"an integer >= 1, got {b!r}")
        _check_flag("keep_checkpoints", self.keep_checkpoints)

    def key(self) -> dict:
        """The form cache and checkpoint keys hold (:func:`ddlib.cache.make_key`): every
        field but ``backend``, whose results agree with numpy's to rounding, so that runs on
        a GPU and on the CPU share their caches and checkpoints."""
        return {"__type__": type(self).__name__,
                **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "backend"}}

    def physics(self) -> MPOOptions:
        """These options without the fields that cannot change a result (checkpointing,
        threads, whether the state is returned): the part a cache or checkpoint key holds."""
        return replace(self, checkpoint_every=None, blas_threads=None, keep_state=True,
                       keep_checkpoints=False)


@dataclass(frozen=True)
class Correlations:
    r"""Connected two-point functions (Eq. 7) relative to a central reference site.

    Attributes
    ----------
    ref_site : int
        The reference site :math:`R'` (a central site).
    eta : ndarray, shape (3, 3, N)
        :math:`\eta_{ab}(R', j) = \langle\sigma^a_{R'}\sigma^b_j\rangle - \mu_a(R')\mu_b(j)`,
        a, b ∈ (x, y, z); NaN at j = R'.
    distance : ndarray of int, shape (N,)
        :math:`|x_j - x_{R'}|` along the chain/cylinder axis, −1 off the reference's row.
    correlation_length : ndarray, shape (3, 3)
        Inverse correlation lengths :math:`\lambda_{ab}` from a least-squares fit
        :math:`\log\bar\eta_{ab}(R) \approx c - \lambda_{ab}R` along the reference's row,
        where :math:`\bar\eta(R) = \max_{R'\ge R}|\eta_{ab}(R')|` is the decreasing upper
        envelope of :math:`|\eta_{ab}|` (averaged over both sides), so that the spatially
        oscillating correlations of low Δ give their envelope's decay rather than a fit
        through the nodes; :math:`1 \le R \le d - 2` with d the distance to the nearer open
        end, points below 1e-10 dropped (Fig. 2b).
    total_correlation : ndarray, shape (3, 3)
        :math:`\Sigma_{ab} = \sum_{j\neq R'}\eta_{ab}(R', j)` (Fig. 2c).
    """

    ref_site: int
    eta: np.ndarray
    distance: np.ndarray
    correlation_length: np.ndarray
    total_correlation: np.ndarray

    @property
    def lambda_xx(self) -> float:
        r""":math:`\lambda_{xx}` of Fig. 2(b)."""
        return float(self.correlation_length[0, 0])

    @property
    def sigma_xx(self) -> float:
        r""":math:`\Sigma_{xx}` of Fig. 2(c)."""
        return float(self.total_correlation[0, 0])




@dataclass(frozen=True, kw_only=True)
class Evolution(SteadyResult):
    """Result of :func:`evolve` (and of each stage of :func:`steady_state`).

    Attributes
    ----------
    times : ndarray, shape (T,)
        Recorded times [1/Γ], from 0 (from the stage's start for a stage of the fast route).
    mu_sites : ndarray, shape (T, N, 3)
        :math:`(\\langle\\sigma^x_i\\rangle, \\langle\\sigma^y_i\\rangle,
        \\langle\\sigma^z_i\\rangle)` per site.
    mu_center : ndarray, shape (T, 3)
        Average over ``center_sites`` (the central column(s) of the lattice); also ``mu``.
    trace : ndarray, shape (T,)
        tr ρ (1 up to truncation: the gates conserve it).
    truncation_error : ndarray, shape (T,)
        Discarded weight summed over all SVDs up to each time.
    max_bond : ndarray of int, shape (T,)
        Largest bond dimension of the MPS.
    correlations : Correlations
        At the final time.
    center_sites : ndarray of int
    state : quimb.tensor.MatrixProductState or None
        Final Pauli coefficients :math:`c` (physical dimension 4, order 1, x, y, z); None
        unless ``options.keep_state``.
    chi, dt, order : int, float, int
    wall_time : float
        Seconds spent (over all runs, when resumed from a checkpoint).
    converged : bool
        Whether the central magnetization was stationary (``options.tol`` over
        ``options.window``) at the end.
    message : str
    model : Model
    lattice : Lattice
    success : bool
        The evolution reached its final time (or stationarity, when asked to stop there)
        with finite observables.
    drift : float
        :math:`\\max_a|d\\mu_a/dt|` of the central magnetization at the end (least-squares
        slope over the last ``options.window``; NaN if shorter) [Γ].
    """

    times: np.ndarray
    mu_sites: np.ndarray
    mu_center: np.ndarray
    trace: np.ndarray
    truncation_error: np.ndarray
    max_bond: np.ndarray
    correlations: Correlations
    center_sites: np.ndarray
    state: MatrixProductState | None
    chi: int
    dt: float
    order: int
    wall_time: float
    success: bool = True
    drift: float = math.nan

    @property
    def mu(self) -> np.ndarray:
        """The central magnetization, shape (T, 3) (= ``mu_center``)."""
        return self.mu_center


@dataclass(frozen=True, kw_only=True)
class SteadyState(SteadyResult):
    """Result of :func:`steady_state`.

    Attributes
    ----------
    mu : ndarray, shape (3,)
        Central steady-state magnetization :math:`\\bar\\mu^S`.
    mu_sites : ndarray, shape (N, 3)
    correlations : Correlations
    truncation_error : float
        Total discarded weight (of the last stage).
    evolution : Evolution
        The last stage's run (the whole run for ``route="plain"``).
    converged : bool
        The last stage ended stationary: the central μ moved less than ``options.tol`` over
        the last ``options.window``.
    message : str
    model : Model
    lattice : Lattice
    stages : tuple of dict
        One entry per stage: ``chi``, ``dt``, ``order``, ``t`` (time evolved), ``steps``,
        ``wall_time`` [s], ``mu`` (central μ at its end), ``converged``, ``resumed``.
    drift : float
        :math:`\\max_a|d\\mu_a/dt|` at the end (see :class:`Evolution`).
    wall_time : float
        Seconds over all stages.
    """

    mu: np.ndarray
    mu_sites: np.ndarray
    correlations: Correlations
    truncation_error: float
    evolution: Evolution
    stages: tuple = ()
    drift: float = math.nan
    wall_time: float = math.nan

    def summary(self) -> SteadySummary:
        """The portable summary of this steady state (``ddlib.results.SteadySummary``), with
        the central μ, Σ_ab and λ_ab; a warm start for any solver."""
        c = self.correlations
        return SteadySummary(
            model=self.model, mu=tuple(float(v) for v in self.mu), converged=self.converged,
            message=self.message, stable=None, kappa=math.nan, solver="mpo",
            sigma=tuple(tuple(float(v) for v in row) for row in c.total_correlation),
            lam=tuple(tuple(float(v) for v in row) for row in c.correlation_length),
            lattice=self.lattice.key() if hasattr(self.lattice, "key") else None)


def _center_sites(lattice: Lattice) -> np.ndarray:
    x = lattice.coords[:, 0]
    L = int(x.max()) + 1
    return np.flatnonzero(np.isin(x, ((L - 1) // 2, L // 2)))


def _correlations(state: _PauliMPS, lattice: Lattice, mu: np.ndarray, ref: int,
                  envs) -> Correlations:
    eta = state.two_point(ref, envs) - np.einsum("a,jb->abj", mu[ref], mu)
    coords = lattice.coords
    x = coords[:, 0]
    row = np.all(coords[:, 1:] == coords[ref, 1:], axis=1)
    distance = np.where(row, np.abs(x - x[ref]), -1)
    R_fit = max(2, min(x[ref], x.max() - x[ref]) - 2)
    R = np.array([r for r in range(1, R_fit + 1) if np.any(distance == r)])
    lam = np.full((3, 3), np.nan)
    for a in range(3):
        for b in range(3):
            amp = np.array([np.nanmean(np.abs(eta[a, b, distance == r])) for r in R])
            envelope = np.maximum.accumulate(amp[::-1])[::-1]
            ok = envelope > 1e-10
            if ok.sum() >= 2:
                lam[a, b] = -np.polyfit(R[ok], np.log(envelope[ok]), 1)[0]
    total = np.nansum(eta, axis=2)
    return Correlations(ref, eta, distance, lam, total)




def _check_flag(name: str, value) -> None:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def _check_args(model, lattice, chi, dt, t_final, order, options, t_name="t_final"):
    if not isinstance(model, Model):
        raise TypeError(f"model must be a ddlib Model, got {type(model).__name__}")
    if not isinstance(lattice, Lattice) or lattice.coords is None:
        raise ValueError("lattice must be a ddlib Lattice with coordinates (e.g. "
                         f"lattice.chain(N, periodic=False) or lattice.cylinder), got {lattice!r}")
    if np.any(lattice.degrees() == 0):
        raise ValueError("lattice must have no isolated sites")
    if isinstance(chi, bool) or not isinstance(chi, Integral) or chi < 1:
        raise ValueError(f"chi must be an integer >= 1, got {chi!r}")
    for name, v in (("dt", dt), (t_name, t_final)):
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    n_steps = int(round(t_final / dt))
    if n_steps < 1 or abs(n_steps * dt - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"{t_name} must be a positive multiple of dt, got {t_name}="
                         f"{t_final!r}, dt={dt!r}")
    if order not in (2, 4) or isinstance(order, bool):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    if options is None:
        options = MPOOptions()
    if not isinstance(options, MPOOptions):
        raise TypeError(f"options must be an MPOOptions or None, got {type(options).__name__}")
    every = 1
    if options.record_every is not None:
        every = int(round(options.record_every / dt))
        if every < 1 or abs(every * dt - options.record_every) > 1e-9 * options.record_every:
            raise ValueError(f"options.record_every must be a multiple of dt, got "
                             f"{options.record_every!r}")
    _check_memory(lattice.N, int(chi))
    if options.backend != "numpy":
        _Arrays(options.backend)  # installed and usable here, before any work
    return n_steps, every, options


def memory_estimate(N: int, chi: int) -> int:
    r"""Bytes an MPO run of N sites at bond dimension χ needs at most (d = 4, float64):
    the tensors, :math:`\sum_k 4 D_{k-1}D_k` numbers with :math:`D_k = \min(\chi, 4^k,
    4^{N-k})`, plus the largest two-site split, about six (4D) × (4D) matrices (θ, its
    factors and LAPACK's workspace)."""
    for name, v in (("N", N), ("chi", chi)):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    k = np.arange(N + 1)
    D = np.minimum(float(chi), np.minimum(4.0 ** np.minimum(k, 60), 4.0 ** np.minimum(N - k, 60)))
    tensors = 4 * np.sum(D[:-1] * D[1:])
    split = 6 * (4 * D.max()) ** 2
    return int(8 * (tensors + split))


def _check_memory(N: int, chi: int) -> None:
    need, have = memory_estimate(N, chi), available_memory()
    if need > have:
        lo, hi = 1, chi
        while lo < hi:  # the largest χ that fits
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if memory_estimate(N, mid) <= have else (lo, mid - 1)
        raise ValueError(f"chi = {chi} on N = {N} sites needs about {need / 2**30:.1f} GiB "
                         f"(MPS tensors and the largest SVD), {have / 2**30:.1f} GiB are "
                         f"available; the largest chi that fits is {lo}")


# --------------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------------

class _Checkpoint:
    """The state of one evolution on disk: ``<cache>/mpo-checkpoints/<hash of key>.npz``.

    One npz (``allow_pickle=False``): the MPS tensors ``T0 … T{N-1}``, the records
    (``times``, ``mus``, ``traces``, ``errors``, ``bonds``) and ``meta``, a JSON text with the
    full key (:func:`ddlib.cache.make_key` of every parameter, the ddlib version and code
    fingerprint), the step count, the orthogonality centre, the discarded weight, the sweep
    sense and the random generator's state (``rsvd``), so that a resumed run repeats the
    uninterrupted one exactly. Written to a temporary file and renamed (atomic); a file
    that does not load or whose key differs is ignored with a warning."""

    def __init__(self, key: str, every: float | None):
        where = cache_dir()
        self.key, self.every = key, every
        self.path = None
        if where is not None and every is not None:
            name = hashlib.sha256(key.encode()).hexdigest()[:32]
            self.path = where / "mpo-checkpoints" / f"{name}.npz"
        self.last = time.monotonic()
        self.saved = False

    def due(self) -> bool:
        return self.path is not None and time.monotonic() - self.last >= self.every

    def load(self) -> dict | None:
        if self.path is None or not self.path.exists():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                if meta.get("key") != self.key:
                    raise ValueError("its parameters differ (stale or hash collision)")
                out = {name: f[name] for name in ("times", "mus", "traces", "errors", "bonds")}
                out["tensors"] = [f[f"T{i}"] for i in range(meta["N"])]
        except Exception as err:  # noqa: BLE001 - any unreadable file is recomputed
            warnings.warn(f"ignoring checkpoint {self.path}: {err}", stacklevel=3)
            return None
        out["meta"] = meta
        return out

    def save(self, state: _PauliMPS, stepper: _Stepper, records: dict, n: int, wall: float,
             done: bool, history=()) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"key": self.key, "N": len(state.tensors), "n": n, "center": state.center,
                "order": [int(v) for v in state.order],
                "history": list(history),
                "discarded": state.discarded, "ascending": stepper.ascending, "wall": wall,
                "done": done, "rng": state.rng.bit_generator.state}
        arrays = {f"T{i}": T for i, T in enumerate(state.host())}
        arrays.update({name: np.asarray(v) for name, v in records.items()})
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
            os.replace(tmp, self.path)
            self.saved = True
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.last = time.monotonic()

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()

    def adopt(self) -> dict | None:
        """The most advanced checkpoint in the same directory whose key differs from this
        one's only in the code fingerprint, the ddlib version or the warm start
        (``initial``): a state of the same evolution (model, lattice, χ, δt, order, options)
        left by an earlier code version, or reached from another start. Finished ones first,
        then the most steps; None when there is none (a file that does not load is skipped)."""
        if self.path is None or not self.path.parent.is_dir():
            return None
        want = _adoption_key(self.key)
        best, rank = None, None
        for path in self.path.parent.glob("*.npz"):
            if path == self.path:
                continue
            try:
                with np.load(path, allow_pickle=False) as f:
                    meta = json.loads(str(f["meta"]))
                    if _adoption_key(meta["key"]) != want:
                        continue
                    r = (bool(meta["done"]), int(meta["n"]), path.stat().st_mtime)
                    if rank is not None and r <= rank:
                        continue
                    out = {name: f[name] for name in ("times", "mus", "traces", "errors",
                                                      "bonds")}
                    out["tensors"] = [f[f"T{i}"] for i in range(meta["N"])]
            except Exception:  # noqa: BLE001, S112 - an unreadable file is not a candidate
                continue
            out["meta"], out["path"] = meta, path
            best, rank = out, r
        return best


def _adoption_key(key: str) -> str:
    """A checkpoint key without what cannot change the evolution's fixed point: the code
    fingerprint, the version and the warm start."""
    k = json.loads(key)
    k.pop("code", None)
    k.pop("version", None)
    k.get("params", {}).pop("initial", None)
    return json.dumps(k, sort_keys=True)


# --------------------------------------------------------------------------------------------
# the evolution loop
# --------------------------------------------------------------------------------------------

def _stationarity(times: np.ndarray, mu_c: np.ndarray, tol: float,
                  window: float) -> tuple[bool, float]:
    """(central μ moved less than tol over the last window, max |dμ/dt| fitted over it)."""
    if len(times) < 2 or times[-1] - times[0] < window - 1e-9 or window <= 0:
        return False, math.nan
    recent = times >= times[-1] - window - 1e-9
    moved = float(np.abs(mu_c[recent] - mu_c[-1]).max())
    slope = np.polyfit(times[recent] - times[-1], mu_c[recent], 1)[0]
    return moved < tol, float(np.abs(slope).max())


def _restore(state: _PauliMPS, stepper: _Stepper, saved: dict) -> None:
    """Put a checkpoint's MPS (tensors, centre, site order, discarded weight, generator)
    and sweep sense into ``state`` and ``stepper``."""
    meta = saved["meta"]
    state.tensors = [state.arrays.put(np.array(T)) for T in saved["tensors"]]
    state.center, state.discarded = int(meta["center"]), float(meta["discarded"])
    state.order = np.array(meta.get("order", range(len(state.tensors))), dtype=int)
    state.position = np.argsort(state.order)
    state.rng.bit_generator.state = meta["rng"]
    stepper.ascending = bool(meta["ascending"])


def _run(model, lattice, state: _PauliMPS, chi, dt, order, n_steps, every, options, *,
         tol, window, stop, key, progress, desc, t0=0.0, history=(), keep_final=True,
         adopt: dict | None = None):
    """Evolve ``state`` (in place) by ``n_steps`` steps, recording every ``every``, resuming
    from and writing checkpoints under ``key`` (with ``history``, the earlier stages' info);
    at the end the checkpoint is brought up to date (``keep_final``) or deleted. With
    ``adopt`` (a checkpoint of the same evolution under another code version or warm start,
    :meth:`_Checkpoint.adopt`) and no checkpoint under ``key``, the evolution starts from
    its state with fresh records: the run then goes on until the current code finds it
    stationary. Returns the Evolution, this stage's info and the history (the
    stored one on resume)."""
    start = time.perf_counter()
    stepper = _Stepper(model, lattice, dt, order, options.pauli_scale, options.swap_route)
    center = _center_sites(lattice)
    ckpt = _Checkpoint(key, options.checkpoint_every)
    rec = {"times": [], "mus": [], "traces": [], "errors": [], "bonds": []}
    wall0, n, done, resumed, adopted = 0.0, 0, False, False, None
    saved = ckpt.load()
    if saved is not None:
        meta = saved["meta"]
        _restore(state, stepper, saved)
        rec = {name: list(saved[name]) for name in rec}
        n, wall0, done, resumed = int(meta["n"]), float(meta["wall"]), bool(meta["done"]), True
        t0, history = float(rec["times"][0]), list(meta["history"])
    elif adopt is not None:
        _restore(state, stepper, adopt)
        old = json.loads(adopt["meta"]["key"])
        adopted = {"code": old.get("code"), "steps": int(adopt["meta"]["n"]),
                   "wall_time": float(adopt["meta"]["wall"]), "file": adopt["path"].name}

    def record(n):
        tr, mu = state.magnetization()
        for name, v in zip(rec, (t0 + n * dt, mu, tr, state.discarded, state.max_bond()),
                           strict=True):
            rec[name].append(v)

    def stationary():
        mus = np.array(rec["mus"])
        return _stationarity(np.array(rec["times"]), mus[:, center].mean(1), tol, window)

    if not rec["times"]:
        record(0)
    status = "reached t_final"
    bar = None
    if progress and not done:
        from tqdm import tqdm

        bar = tqdm(total=n_steps, initial=n, desc=desc, leave=False)
    with threadpool_limits(options.blas_threads, user_api="blas"):
        while n < n_steps and not done:
            n_sub = min(every, n_steps - n)
            stepper.advance(state, n_sub)
            n += n_sub
            record(n)
            if bar is not None:
                bar.update(n_sub)
            if not np.all(np.isfinite(rec["mus"][-1])):
                status = f"non-finite observables at t = {t0 + n * dt:g}"
                break
            if stop and stationary()[0]:
                break
            if ckpt.due():
                ckpt.save(state, stepper, rec, n, wall0 + time.perf_counter() - start, False,
                          history)
    if bar is not None:
        bar.close()
    wall = wall0 + time.perf_counter() - start
    if not keep_final:
        ckpt.remove()  # the run is complete
    elif not done and (options.keep_checkpoints or resumed or ckpt.saved
                       or wall >= (options.checkpoint_every or 0)):
        ckpt.save(state, stepper, rec, n, wall, True, history)  # a long run's end
    mu_sites = np.array(rec["mus"])
    finite = bool(np.all(np.isfinite(mu_sites)))
    conv, drift = stationary() if finite else (False, math.nan)
    if finite and n < n_steps:
        status = f"stationary at t = {t0 + n * dt:g}"
    crit = f"|Δμ_center| < {tol:g} over the last {window:g}"
    message = (f"{status}; {'stationary' if conv else 'NOT stationary'} ({crit}); "
               f"|dμ/dt| = {drift:.1e}; discarded weight {state.discarded:.2e}, max bond "
               f"{state.max_bond()}" + ("; resumed from a checkpoint" if resumed else "")
               + (f"; started from the state of the same evolution kept by code "
                  f"{adopted['code']} ({adopted['steps']} steps, {adopted['wall_time']:.0f} s)"
                  if adopted else ""))
    envs = state.environments()
    ev = Evolution(
        times=np.array(rec["times"], dtype=float), mu_sites=mu_sites,
        mu_center=mu_sites[:, center].mean(1), trace=np.array(rec["traces"], dtype=float),
        truncation_error=np.array(rec["errors"], dtype=float),
        max_bond=np.array(rec["bonds"], dtype=int),
        correlations=_correlations(state, lattice, mu_sites[-1], int(center[0]), envs),
        center_sites=center, state=state.to_quimb() if options.keep_state else None,
        chi=int(chi), dt=float(dt), order=int(order), wall_time=wall, converged=conv,
        message=message, model=model, lattice=lattice, success=finite, drift=drift)
    return ev, {"chi": int(chi), "dt": float(dt), "order": int(order), "t": n * dt,
                "steps": n, "wall_time": wall, "mu": ev.mu_center[-1].tolist(),
                "converged": conv, "resumed": resumed,
                **({"adopted": adopted} if adopted else {})}, list(history)


def _key(name: str, **params) -> str:
    """Checkpoint key: the parameters and the code of this solver and the ddlib modules it
    imports (not the whole package: a checkpoint of hours survives an edit of the book's
    support code or of another solver)."""
    return make_key(name, solver=__name__, **params)


def evolve(model: Model, lattice: Lattice, chi: int, dt: float, t_final: float, order: int = 4,
           *, options: MPOOptions | None = None, stop_when_stationary: bool = False,
           progress: bool = False) -> Evolution:
    r"""Evolve ρ from all spins down, :math:`\rho(0) = \bigotimes_i|{\downarrow}\rangle\langle
    {\downarrow}|`, under the master equation (1)–(3) as an MPS of Pauli coefficients.

    .. math::

        c(t + \delta t) \approx S_{p}(\delta t)\,c(t),\qquad
        S_p(\delta t) = e^{\delta t\,\mathcal L} + O(\delta t^{p+1}),

    with the Trotter product formulas :math:`S_2`, :math:`S_4` of the module docstring and a
    truncated SVD after every gate. A long run writes checkpoints
    (``options.checkpoint_every``) and a rerun with the same arguments resumes from the last.

    Parameters
    ----------
    model : Model
    lattice : Lattice
        ``lattice.chain(N, periodic=False)`` (the paper's open chains) or
        ``lattice.cylinder(Lx, Ly)`` (snake path, App. C); any lattice with coordinates works,
        bonds between far-apart path sites costing swaps.
    chi : int
        Maximal bond dimension χ.
    dt : float
        Trotter step δt [1/Γ].
    t_final : float
        Final time [1/Γ], a multiple of ``dt``.
    order : {2, 4}
        Trotter order p.
    options : MPOOptions, optional
        Truncation cutoff, recording interval, stationarity criterion, checkpoints; None
        means ``MPOOptions()``.
    stop_when_stationary : bool
        Stop as soon as the stationarity criterion holds.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Evolution

    Raises
    ------
    ValueError, TypeError
        For invalid arguments (the message names the parameter), and for a χ whose tensors
        would not fit in memory (with the estimate and the largest χ that fits).
    """
    n_steps, every, options = _check_args(model, lattice, chi, dt, t_final, order, options)
    _check_flag("stop_when_stationary", stop_when_stationary)
    _check_flag("progress", progress)
    s = options.pauli_scale
    state = _PauliMPS(np.array([1.0, s, s, s]) * _DOWN, lattice.N, int(chi), options.cutoff, s,
                      options.svd_method, options.backend)
    key = _key("mpo.evolve", model=model, lattice=lattice, chi=int(chi), dt=float(dt),
               t_final=float(t_final), order=int(order), options=options.physics(),
               stop=bool(stop_when_stationary))
    ev, _, _ = _run(model, lattice, state, chi, dt, order, n_steps, every, options,
                 tol=options.tol, window=options.window, stop=stop_when_stationary, key=key,
                 progress=progress, desc=f"MPO χ={chi}", keep_final=options.keep_checkpoints)
    return ev


def _initial_state(initial, model, lattice, chi, options) -> tuple[_PauliMPS | None, str]:
    """The warm start as a _PauliMPS (and a fingerprint for checkpoint keys), or None."""
    if initial is None:
        return None, "none"
    s = options.pauli_scale
    if isinstance(initial, SteadyState):
        ev = initial.evolution
        if ev.state is not None and ev.state.L == lattice.N:
            mps = ev.state
            tensors = []
            for i in range(mps.L):
                inds = ([mps.bond(i - 1, i)] if i > 0 else []) + (
                    [mps.bond(i, i + 1)] if i < mps.L - 1 else []) + [mps.site_ind(i)]
                T = np.asarray(mps[i].transpose(*inds).data, dtype=float)
                T = T.reshape((1,) * (i == 0) + T.shape[:-1] + (1,) * (i == mps.L - 1)
                              + T.shape[-1:])
                tensors.append(T.transpose(0, 2, 1) * np.array([1.0, s, s, s])[:, None])
            digest = hashlib.sha256(b"".join(T.tobytes() for T in tensors)).hexdigest()[:16]
            return _PauliMPS.from_tensors(tensors, chi, options.cutoff, s, options.svd_method,
                                          backend=options.backend), f"mps:{digest}"
        mu_sites = (initial.mu_sites if len(initial.mu_sites) == lattice.N
                    else np.tile(initial.mu, (lattice.N, 1)))
    else:
        summary = as_initial(initial, "mpo")
        mu_sites = np.tile(np.asarray(summary.mu, dtype=float), (lattice.N, 1))
    mu_sites = np.asarray(mu_sites, dtype=float)
    if mu_sites.shape != (lattice.N, 3) or not np.all(np.isfinite(mu_sites)) \
            or np.any(np.linalg.norm(mu_sites, axis=1) > 1 + 1e-9):
        raise ValueError("initial must hold finite site magnetizations |μ| <= 1")
    digest = hashlib.sha256(mu_sites.tobytes()).hexdigest()[:16]
    return _PauliMPS.product(mu_sites, chi, options.cutoff, s, options.svd_method,
                             options.backend), \
        f"product:{digest}"


def steady_state(model: Model, lattice: Lattice, chi: int, dt: float = 0.1,
                 t_max: float = 30.0, order: int = 4, *, options: MPOOptions | None = None,
                 initial=None, route: str = "fast", progress: bool = False) -> SteadyState:
    r"""Steady state :math:`\mathcal L\rho_S = 0` of Eqs. (1)–(3) by time evolution (App. C),
    stopped once the central magnetization is stationary.

    The steady state does not depend on the path that reaches it, so the default
    ``route="fast"`` spends little on the transient: it evolves at a small bond dimension
    (``options.warmup_chi``) with a coarse second-order step (``options.warmup_dt``) until
    the central μ is stationary to ``options.warmup_tol``, doubles χ stage by stage, each
    stage run to that tolerance, and finishes at the requested χ, δt and Trotter order until

    .. math::

        \max_{t_{\rm end} - w \le t \le t_{\rm end}}
        \big\|\bar\mu(t) - \bar\mu(t_{\rm end})\big\|_\infty < \mathrm{tol}

    (``options.tol`` over ``options.window`` = w; the final |dμ/dt| is reported as ``drift``:
    with a relaxation rate γ the distance to the fixed point is about drift/γ). Only the
    last stage fixes the result (its χ, δt and order: the fixed point of the Trotterized,
    truncated map), the stages before only bring the start close to it. ``route="plain"``
    is one evolution from all spins down at the requested χ, δt and order. ``initial=``
    (a previous :class:`SteadyState`, e.g. at a neighbouring Δ or a smaller χ, or a
    ``ddlib.results.SteadySummary`` of any solver) replaces the all-down start: a state with
    its MPS is the start of the final stage (no warm-up stages), otherwise the warm-up
    starts from the product state of its magnetization.

    A rerun resumes from its own checkpoint. Without one, a checkpoint of the same final
    stage (same model, lattice, χ, δt, order, options) left by another version of this
    code or reached from another warm start, e.g. a kept ladder computed before an edit of
    this module, is the start of the final stage instead, which then runs until the
    current code finds it stationary: hours of evolution are not redone for an edit that
    leaves the physics alone, and a change of the physics is evolved away. The message and
    ``stages[-1]["adopted"]`` say so.

    Parameters
    ----------
    model, lattice, chi, dt, order
        As in :func:`evolve` (``dt`` and ``order`` of the final stage).
    t_max : float
        Longest evolution time of each stage [1/Γ], a multiple of ``dt``.
    options : MPOOptions, optional
        None means ``MPOOptions()`` (records every step).
    initial : SteadyState or ddlib.results.SteadySummary, optional
    route : {"fast", "plain"}
    progress : bool

    Returns
    -------
    SteadyState
        ``converged`` is False (and ``message`` says so) when the last stage reached ``t_max``
        before stationarity; ``stages`` lists what each stage did.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments (naming the parameter) before any work.
    """
    _, every, options = _check_args(model, lattice, chi, dt, t_max, order, options, "t_max")
    if route not in ("fast", "plain"):
        raise ValueError(f"route must be 'fast' or 'plain', got {route!r}")
    _check_flag("progress", progress)
    state, start_key = _initial_state(initial, model, lattice, int(chi), options)
    plan = []  # (chi, dt, order, tol) per stage
    if route == "fast" and (state is None or start_key.startswith("product")):
        c = min(options.warmup_chi, int(chi))
        loose = max(options.warmup_tol, options.tol)
        # the transient, cheaply (a step no longer than t_max: a stage never runs past it)
        plan.append((c, min(options.warmup_dt, float(t_max)), 2, loose))
        while c < chi:  # the final step's fixed point, at growing χ
            plan.append((c, float(dt), int(order), options.tol))
            c *= 2
    plan.append((int(chi), float(dt), int(order), options.tol))
    s = options.pauli_scale
    if state is None:
        state = _PauliMPS(np.array([1.0, s, s, s]) * _DOWN, lattice.N, plan[0][0],
                          options.cutoff, s, options.svd_method, options.backend)
    base = dict(model=model, lattice=lattice, chi=int(chi), dt=float(dt), t_max=float(t_max),
                order=int(order), options=options.physics(), route=route, initial=start_key)
    keys = [_key("mpo.steady_state.stage", stage=k, **base) for k in range(len(plan))]
    # resume: the latest stage with a checkpoint restarts from it
    found = next((k for k in range(len(plan) - 1, -1, -1)
                  if _Checkpoint(keys[k], options.checkpoint_every).load() is not None), None)
    first, adopt = found or 0, None
    if found != len(plan) - 1:  # no state of the last stage: one of another code or start?
        adopt = _Checkpoint(keys[-1], options.checkpoint_every).adopt()
        if adopt is not None:
            first = len(plan) - 1
    stages, t0 = [], 0.0
    for k, (c, step, p, tol) in enumerate(plan):
        if k < first:
            continue
        state.chi = c
        last = k == len(plan) - 1
        n_steps = max(1, int(t_max / step + 1e-9))  # t_max is a multiple of dt
        stage_every = every if step == dt else max(1, int(round(0.5 / step)))
        stage_opts = options if last else replace(options, keep_state=False)
        ev, info, stages = _run(
            model, lattice, state, c, step, p, n_steps, stage_every, stage_opts, tol=tol,
            window=options.window, stop=True, key=keys[k], progress=progress,
            desc=f"MPO stage {k + 1}/{len(plan)} χ={c}", t0=t0, history=stages,
            adopt=adopt if last else None)
        stages.append(info)
        t0 = sum(g["t"] for g in stages)
        if k > 0:
            _Checkpoint(keys[k - 1], options.checkpoint_every).remove()
    if not options.keep_checkpoints:
        _Checkpoint(keys[-1], options.checkpoint_every).remove()  # the run is complete
    route_text = ", ".join(f"χ={g['chi']} δt={g['dt']:g} O{g['order']} t={g['t']:g}"
                           for g in stages)
    message = f"{ev.message}; stages: {route_text}"
    return SteadyState(mu=ev.mu_center[-1], mu_sites=ev.mu_sites[-1],
                       correlations=ev.correlations,
                       truncation_error=float(ev.truncation_error[-1]), evolution=ev,
                       converged=ev.converged, message=message, model=model, lattice=lattice,
                       stages=tuple(stages), drift=ev.drift,
                       wall_time=sum(g["wall_time"] for g in stages))


def chi_ladder(model: Model, lattice: Lattice, chis, dt: float = 0.1, t_max: float = 30.0,
               order: int = 4, *, options: MPOOptions | None = None,
               progress: bool = False) -> list[SteadyState]:
    """:func:`steady_state` at increasing bond dimensions ``chis``, each started from the
    final MPS of the previous one (the first by the fast route): a convergence study in χ
    at the cost of little more than its largest point.

    Resumable: each χ's final checkpoint is kept until the whole ladder is complete, so a
    ladder interrupted at χ_k resumes at χ_k from the same warm start (and the finished
    χ < χ_k return at once); then they are deleted unless ``options.keep_checkpoints``.

    Parameters
    ----------
    model, lattice, dt, t_max, order, options, progress
        As in :func:`steady_state`.
    chis : sequence of int
        Strictly increasing bond dimensions.

    Returns
    -------
    list of SteadyState
        One per χ, with its MPS (``evolution.state``).
    """
    try:
        chis = [int(c) for c in chis]
    except (TypeError, ValueError):
        raise ValueError(f"chis must be a sequence of integers, got {chis!r}") from None
    if not chis or chis[0] < 1 or any(chis[k + 1] <= chis[k] for k in range(len(chis) - 1)):
        raise ValueError(f"chis must be a non-empty, strictly increasing sequence of integers "
                         f">= 1, got {chis!r}")
    _, _, options = _check_args(model, lattice, max(chis), dt, t_max, order, options, "t_max")
    _check_flag("progress", progress)
    kept = replace(options, keep_state=True, keep_checkpoints=True)
    out, previous = [], None
    for chi in chis:
        previous = steady_state(model, lattice, chi, dt, t_max, order, options=kept,
                                initial=previous, progress=progress)
        out.append(previous)
    if not options.keep_checkpoints and options.checkpoint_every is not None \
            and cache_dir() is not None:  # complete: each rerun returns at once, then deletes
        done = replace(kept, keep_checkpoints=False)
        for k, chi in enumerate(chis):
            steady_state(model, lattice, chi, dt, t_max, order, options=done,
                         initial=out[k - 1] if k else None)
    return out


def _point(model, lattice, chi, dt, t_max, order, options, route):
    """One point of :func:`steady_states` (top level: picklable for worker processes)."""
    from .cache import cached

    opts = replace(options, keep_state=False)
    return cached("mpo.steady_state",
                  lambda: steady_state(model, lattice, chi, dt, t_max, order, options=opts,
                                       route=route),
                  model=model, lattice=lattice, chi=chi, dt=dt, t_max=t_max, order=order,
                  options=opts.physics(), route=route)


def _one_thread():
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"


def steady_states(model: Model, lattice: Lattice, param: str, values, chi: int,
                  dt: float = 0.1, t_max: float = 30.0, order: int = 4, *,
                  options: MPOOptions | None = None, route: str = "fast", workers: int = 1,
                  progress: bool = False) -> list[SteadyState]:
    """:func:`steady_state` at several values of one model parameter (e.g. ``"Delta"``),
    ``workers`` points at a time in separate processes (``spawn``, one BLAS thread each).

    Each point is cached on disk (``ddlib.cache``, without its MPS) and resumes from its
    checkpoints, so the results are those of the serial loop (``workers=1``), in the order of
    ``values``.

    Parameters
    ----------
    model : Model
        The other parameters.
    param : str
        A field of :class:`Model` (``"Delta"``, ``"Omega"``, ``"J"``, ``"Gamma"``).
    values : sequence of float
    chi, dt, t_max, order, options, route
        As in :func:`steady_state`.
    workers : int
        Processes (1: in this process).

    Returns
    -------
    list of SteadyState
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a ddlib Model, got {type(model).__name__}")
    names = [f.name for f in fields(Model)]
    if param not in names or param == "coupling":
        raise ValueError(f"param must be a numeric field of Model {names}, got {param!r}")
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"values must be a sequence of numbers, got {values!r}") from None
    if not values:
        raise ValueError("values must not be empty")
    if isinstance(workers, bool) or not isinstance(workers, Integral) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    _check_flag("progress", progress)
    models = [replace(model, **{param: v}) for v in values]  # Model validates each value
    _, _, options = _check_args(model, lattice, chi, dt, t_max, order, options, "t_max")
    if route not in ("fast", "plain"):
        raise ValueError(f"route must be 'fast' or 'plain', got {route!r}")
    args = [(m, lattice, int(chi), float(dt), float(t_max), int(order), options, route)
            for m in models]
    if workers == 1:
        it = (_point(*a) for a in args)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, total=len(args), desc=f"MPO {param}")
        return list(it)
    with ProcessPoolExecutor(max_workers=min(workers, len(args)),
                             mp_context=multiprocessing.get_context("spawn"),
                             initializer=_one_thread) as pool:
        futures = [pool.submit(_point, *a) for a in args]
        it = futures
        if progress:
            from tqdm import tqdm

            it = tqdm(as_completed(futures), total=len(futures), desc=f"MPO {param}")
            for _ in it:
                pass
        return [f.result() for f in futures]
