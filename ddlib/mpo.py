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
chains) are applied by swapping the far site next to the near one and back.

The tensors store :math:`s^{k}c` for a Pauli string with k non-identity factors
(``MPOOptions.pauli_scale`` s = 0.3), so that the truncation, which minimises the discarded
norm, favours the few-body strings that carry local observables; every output is converted
back to :math:`c`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from quimb.tensor import MatrixProductState
from quimb.tensor.decomp import array_split
from threadpoolctl import threadpool_limits

from .lattice import Lattice
from .model import Model, check_model

__all__ = ["MPOOptions", "Correlations", "Evolution", "SteadyState", "pauli_generators",
           "evolve", "steady_state", "density_matrix"]

_SIGMA = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
                  dtype=complex)
_SIGMA_MINUS = np.array([[0, 0], [1, 0]], dtype=complex)  # |↓⟩⟨↑| in the basis (|↑⟩, |↓⟩)
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
    h1 = 0.5 * model.Delta * _SIGMA[3] + model.Omega * _SIGMA[1]
    ell = _pauli_matrix(h1, [math.sqrt(model.Gamma) * _SIGMA_MINUS])
    pairs = (1, 2) if model.coupling == "xy" else (3,)
    h2 = -0.5 * model.J * sum(np.kron(_SIGMA[a], _SIGMA[a]) for a in pairs)
    ell2 = _pauli_matrix(h2, [])
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

def _sketch_size(chi: int) -> int:
    """Sketch size of the randomized split: χ plus 10 % (at least 10) extra directions."""
    return chi + max(10, chi // 10)


def _randomized_split(theta: np.ndarray, chi: int, cutoff: float, absorb: str,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
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

    Returns
    -------
    left : ndarray, shape (m, χ')
    right : ndarray, shape (χ', n)
    weight : float
        Relative discarded weight w.
    """
    x = theta if absorb == "right" else theta.T
    omega = rng.standard_normal((x.shape[1], _sketch_size(chi)))
    Q = np.linalg.qr(x @ omega)[0]
    Q = np.linalg.qr(x @ (x.T @ Q))[0]  # QR in between: s², not s³, must beat rounding
    Ut, s, Vt = np.linalg.svd(Q.T @ x, full_matrices=False)
    norm2 = float(np.vdot(x, x))
    tail = norm2 - np.cumsum(s**2)  # discarded weight (× ‖θ‖²) when keeping 1, 2, … values
    keep = min(chi, 1 + int(np.count_nonzero(tail > cutoff * norm2)), len(s))
    left, right = Q @ Ut[:, :keep], s[:keep, None] * Vt[:keep]
    weight = max(tail[keep - 1], 0.0) / norm2
    return (left, right, weight) if absorb == "right" else (right.T, left.T, weight)


_SWAP = np.eye(16).reshape(4, 4, 4, 4).transpose(1, 0, 2, 3).copy()


class _PauliMPS:
    """Real MPS (tensors of shape (χ_left, 4, χ_right)) with a tracked orthogonality centre."""

    def __init__(self, local: np.ndarray, N: int, chi: int, cutoff: float, scale: float,
                 svd_method: str = "svd"):
        self.tensors = [local.reshape(1, 4, 1).copy() for _ in range(N)]
        self.center = 0
        self.chi, self.cutoff, self.scale, self.svd_method = chi, cutoff, scale, svd_method
        self.discarded = 0.0
        self.rng = np.random.default_rng(0)  # sketches of "rsvd": reproducible runs

    def _move_center(self, k: int) -> None:
        T = self.tensors
        while self.center < k:
            c = self.center
            l, d, r = T[c].shape
            Q, R = np.linalg.qr(T[c].reshape(l * d, r))
            T[c] = Q.reshape(l, d, -1)
            T[c + 1] = np.tensordot(R, T[c + 1], axes=(1, 0))
            self.center += 1
        while self.center > k:
            c = self.center
            l, d, r = T[c].shape
            Q, R = np.linalg.qr(T[c].reshape(l, d * r).T)
            T[c] = Q.T.reshape(-1, d, r)
            T[c - 1] = np.tensordot(T[c - 1], R.T, axes=(2, 0))
            self.center -= 1

    def _apply_adjacent(self, k: int, G: np.ndarray, absorb: str) -> None:
        """Apply the gate G[o_k, o_k+1, i_k, i_k+1] to sites (k, k+1) and split back, leaving
        the centre on k+1 (``absorb="right"``) or k."""
        self._move_center(k if self.center <= k else k + 1)
        A, B = self.tensors[k], self.tensors[k + 1]
        l, r = A.shape[0], B.shape[2]
        theta = np.tensordot(A, B, axes=(2, 0))
        theta = np.tensordot(theta, G, axes=((1, 2), (2, 3)))  # (l, r, o_k, o_k+1)
        U, V = self._split(theta.transpose(0, 2, 3, 1).reshape(l * 4, 4 * r), absorb)
        self.tensors[k] = U.reshape(l, 4, -1)
        self.tensors[k + 1] = V.reshape(-1, 4, r)
        self.center = k + 1 if absorb == "right" else k

    def _split(self, theta: np.ndarray, absorb: str) -> tuple[np.ndarray, np.ndarray]:
        """Truncated θ ≈ UV by ``svd_method``, the discarded weight added to the total."""
        if self.svd_method == "rsvd" and _sketch_size(self.chi) <= min(theta.shape) // 2:
            U, V, weight = _randomized_split(theta, self.chi, self.cutoff, absorb, self.rng)
            self.discarded += weight
            return U, V
        info = {"error": None}
        method = "svd" if self.svd_method == "rsvd" else self.svd_method
        U, _, V = array_split(theta, method=method, absorb=absorb, max_bond=self.chi,
                              cutoff=self.cutoff, cutoff_mode="rsum2", info=info)
        if info["error"]:
            self.discarded += float(info["error"]) ** 2 / float(np.vdot(theta, theta))
        return U, V

    def apply(self, i: int, j: int, G: np.ndarray) -> None:
        """Apply a two-site gate to sites i < j, swapping j next to i and back if needed.

        Swapping back after every gate keeps the sites in path order, the order in which the
        state is compressible: tracking the permutation instead (leaving j where the gate
        put it) saves 30–40 % of the swaps on 3 × 4 – 12 × 4 cylinders but doubles the
        discarded weight at fixed χ (measured; see ``book/mpo.md``)."""
        if j == i + 1:
            self._apply_adjacent(i, G, "right" if self.center <= i else "left")
            return
        self._move_center(j)
        for k in range(j - 1, i, -1):
            self._apply_adjacent(k, _SWAP, "left")
        self._apply_adjacent(i, G, "right")
        for k in range(i + 1, j):
            self._apply_adjacent(k, _SWAP, "right")

    def max_bond(self) -> int:
        return max(T.shape[2] for T in self.tensors)

    def environments(self):
        """Left and right contractions with the identity string (the partial traces)."""
        N = len(self.tensors)
        left, right = [np.ones(1)], [np.ones(1)]
        for k in range(N):
            left.append(left[-1] @ self.tensors[k][:, 0, :])
            right.append(self.tensors[N - 1 - k][:, 0, :] @ right[-1])
        return left, right[::-1]

    def magnetization(self, envs=None) -> tuple[float, np.ndarray]:
        """tr ρ and ⟨σᵃ_i⟩, shape (N, 3)."""
        left, right = envs if envs is not None else self.environments()
        trace = float(left[-1][0])
        mu = np.array([np.einsum("l,lar,r->a", left[k], T[:, 1:, :], right[k + 1])
                       for k, T in enumerate(self.tensors)])
        return trace, mu / (trace * self.scale)

    def two_point(self, ref: int, envs=None) -> np.ndarray:
        r""":math:`\langle\sigma^a_{ref}\sigma^b_j\rangle`, shape (3, 3, N) (NaN at j = ref)."""
        left, right = envs if envs is not None else self.environments()
        T, N = self.tensors, len(self.tensors)
        out = np.full((3, 3, N), np.nan)
        w = np.einsum("l,lar->ar", left[ref], T[ref][:, 1:, :])
        for j in range(ref + 1, N):
            out[:, :, j] = np.einsum("ar,rbs,s->ab", w, T[j][:, 1:, :], right[j + 1])
            w = w @ T[j][:, 0, :]
        u = np.einsum("lar,r->al", T[ref][:, 1:, :], right[ref + 1])
        for j in range(ref - 1, -1, -1):
            out[:, :, j] = np.einsum("l,lbr,ar->ab", left[j], T[j][:, 1:, :], u)
            u = u @ T[j][:, 0, :].T
        return out / (left[-1][0] * self.scale**2)

    def to_quimb(self) -> MatrixProductState:
        unscale = np.array([1.0] + [1.0 / self.scale] * 3)
        arrays = [(T * unscale[:, None]).transpose(0, 2, 1) for T in self.tensors]
        arrays[0], arrays[-1] = arrays[0][0], arrays[-1][:, 0, :]  # N >= 2 (lattices)
        return MatrixProductState(arrays, shape="lrp")


def density_matrix(state: MatrixProductState) -> np.ndarray:
    r"""Dense ρ (shape (2^N, 2^N), site 0 the leftmost factor) from the Pauli-coefficient MPS
    ``state`` of a result (``Evolution.state``): :math:`\rho = 2^{-N}\sum c\,\sigma\cdots`.
    Small N only (reference checks)."""
    c = np.asarray(state.to_dense()).reshape(-1)
    N = state.L
    return np.einsum("a,aij->ij", c, _pauli_strings(N)) / 2**N


class _Stepper:
    """Trotter propagation of a :class:`_PauliMPS`: gates e^{τ ℒ_ij} (cached per bond and τ,
    in the basis weighted by ``scale``), layers swept alternately up and down the path."""

    def __init__(self, model: Model, lattice: Lattice, dt: float, order: int, scale: float):
        w = np.kron(*[np.array([1.0] + [scale] * 3)] * 2)
        self.generators = [w[:, None] * L / w[None, :] for L in _bond_generators(model, lattice)]
        self.layers = _layers(lattice)
        self.bonds = lattice.bonds
        self.dt, self.order = dt, order
        self.gates: dict[tuple, np.ndarray] = {}
        self.ascending = True

    def gate(self, b: int, tau: float) -> np.ndarray:
        if (b, tau) not in self.gates:
            self.gates[b, tau] = scipy.linalg.expm(tau * self.generators[b]).reshape(4, 4, 4, 4)
        return self.gates[b, tau]

    def sweep(self, state: _PauliMPS, layer: int, tau: float) -> None:
        """Apply e^{τ ℒ_ij} for every bond of one layer, along the path in alternate senses."""
        members = self.layers[layer] if self.ascending else self.layers[layer][::-1]
        for b in members:
            i, j = self.bonds[b]
            state.apply(int(i), int(j), self.gate(b, tau))
        self.ascending = not self.ascending

    def advance(self, state: _PauliMPS, n_steps: int) -> None:
        """Apply ``n_steps`` Trotter steps of length dt (one merged product formula)."""
        for layer, tau in _trotter_sequence(len(self.layers), self.order, self.dt, n_steps):
            self.sweep(state, layer, tau)


# --------------------------------------------------------------------------------------------
# solver API
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class MPOOptions:
    """Options of :func:`evolve` / :func:`steady_state`.

    Parameters
    ----------
    cutoff : float, default 1e-16
        Largest relative discarded weight :math:`\\sum_{\\rm disc.} s^2/\\sum s^2` per SVD
        (besides the bond dimension χ). A weight w moves amplitudes by ~√w, and the trace is
        a small part of the Hilbert–Schmidt norm of a mixed state, so keep it tiny.
    record_every : float or None
        Time between recorded observables (a multiple of dt); None records every step.
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
        eigenvectors of :math:`\theta\theta^T` (about 1.4× faster for large χ; singular
        values below ~1e-8 of the largest lose precision, which only matters for cutoff-free
        exact runs), or a randomized range finder with one power iteration that computes only
        the χ kept directions (``rsvd``: a gate 2.5–3× faster at χ = 256–300, discarded
        weight within 2 % of the optimal one and reported exactly; used where χ + p ≤ half
        the matrix, LAPACK's SVD elsewhere). See ``benchmarks/mpo.py``.
    keep_state : bool, default True
        Return the final MPS (``Evolution.state``); False saves memory and disk when results
        are cached (χ = 300, N = 200 is ~0.6 GB).
    blas_threads : int or None, default 1
        BLAS threads while the gates are applied (threadpoolctl); None leaves the process's
        setting. A gate's matrices (at most (4χ) × (4χ)) are too small for threaded BLAS to
        pay: on the book's 2-core machine two OpenBLAS threads made a χ = 300 gate 1.7× (4χ
        × 4χ split) to 3.7× (2χ × 2χ) slower than one (``benchmarks/mpo.py``), so the
        default is one thread and a second core is better spent on another parameter point.
    """

    cutoff: float = 1e-16
    record_every: float | None = None
    tol: float = 1e-4
    window: float = 2.0
    pauli_scale: float = 0.3
    svd_method: str = "svd"
    keep_state: bool = True
    blas_threads: int | None = 1

    def __post_init__(self):
        for name in ("cutoff", "tol", "window"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        p = self.pauli_scale
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 < p <= 1:
            raise ValueError(f"pauli_scale must be a number in (0, 1], got {p!r}")
        if self.svd_method not in ("svd", "svd:eig", "rsvd"):
            raise ValueError("svd_method must be 'svd', 'svd:eig' or 'rsvd', got "
                             f"{self.svd_method!r}")
        r = self.record_every
        if r is not None and (isinstance(r, bool) or not isinstance(r, Real)
                              or not math.isfinite(r) or r <= 0):
            raise ValueError(f"record_every must be None or a number > 0, got {r!r}")
        b = self.blas_threads
        if b is not None and (isinstance(b, bool) or not isinstance(b, Integral) or b < 1):
            raise ValueError(f"blas_threads must be None or an integer >= 1, got {b!r}")


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


@dataclass(frozen=True)
class Evolution:
    """Result of :func:`evolve`.

    Attributes
    ----------
    times : ndarray, shape (n_t,)
        Recorded times [1/Γ], from 0.
    mu_sites : ndarray, shape (n_t, N, 3)
        :math:`(\\langle\\sigma^x_i\\rangle, \\langle\\sigma^y_i\\rangle,
        \\langle\\sigma^z_i\\rangle)` per site.
    mu_center : ndarray, shape (n_t, 3)
        Average over ``center_sites`` (the central column(s) of the lattice).
    trace : ndarray, shape (n_t,)
        tr ρ (1 up to truncation: the gates conserve it).
    truncation_error : ndarray, shape (n_t,)
        Discarded weight summed over all SVDs up to each time.
    max_bond : ndarray of int, shape (n_t,)
        Largest bond dimension of the MPS.
    correlations : Correlations
        At the final time.
    center_sites : ndarray of int
    state : quimb.tensor.MatrixProductState or None
        Final Pauli coefficients :math:`c` (physical dimension 4, order 1, x, y, z); None
        unless ``options.keep_state``.
    chi, dt, order : int, float, int
    wall_time : float
        Seconds spent.
    converged : bool
        Whether the central magnetization was stationary (``options.tol`` over
        ``options.window``) at the end.
    message : str
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
    converged: bool
    message: str


@dataclass(frozen=True)
class SteadyState:
    """Result of :func:`steady_state`.

    Attributes
    ----------
    mu : ndarray, shape (3,)
        Central steady-state magnetization :math:`\\bar\\mu^S`.
    mu_sites : ndarray, shape (N, 3)
    correlations : Correlations
    truncation_error : float
        Total discarded weight.
    evolution : Evolution
        The whole run.
    converged : bool
    message : str
    """

    mu: np.ndarray
    mu_sites: np.ndarray
    correlations: Correlations
    truncation_error: float
    evolution: Evolution
    converged: bool
    message: str


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


def _check_args(model, lattice, chi, dt, t_final, order, options):
    if not isinstance(model, Model):
        raise ValueError(f"model must be a ddlib Model, got {type(model).__name__}")
    if not isinstance(lattice, Lattice) or lattice.coords is None:
        raise ValueError("lattice must be a ddlib Lattice with coordinates (e.g. "
                         f"lattice.chain(N, periodic=False) or lattice.cylinder), got {lattice!r}")
    if np.any(lattice.degrees() == 0):
        raise ValueError("lattice must have no isolated sites")
    if isinstance(chi, bool) or not isinstance(chi, Integral) or chi < 1:
        raise ValueError(f"chi must be an integer >= 1, got {chi!r}")
    for name, v in (("dt", dt), ("t_final", t_final)):
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    n_steps = int(round(t_final / dt))
    if n_steps < 1 or abs(n_steps * dt - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"t_final must be a positive multiple of dt, got t_final={t_final!r}, "
                         f"dt={dt!r}")
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    if options is None:
        options = MPOOptions()
    if not isinstance(options, MPOOptions):
        raise ValueError(f"options must be an MPOOptions, got {type(options).__name__}")
    every = 1
    if options.record_every is not None:
        every = int(round(options.record_every / dt))
        if every < 1 or abs(every * dt - options.record_every) > 1e-9 * options.record_every:
            raise ValueError(f"options.record_every must be a multiple of dt, got "
                             f"{options.record_every!r}")
    return n_steps, every, options


def evolve(model: Model, lattice: Lattice, chi: int, dt: float, t_final: float, order: int = 4,
           *, options: MPOOptions | None = None, stop_when_stationary: bool = False,
           progress: bool = False) -> Evolution:
    r"""Evolve ρ from all spins down, :math:`\rho(0) = \bigotimes_i|{\downarrow}\rangle\langle
    {\downarrow}|`, under the master equation (1)–(3) as an MPS of Pauli coefficients.

    .. math::

        c(t + \delta t) \approx S_{p}(\delta t)\,c(t),\qquad
        S_p(\delta t) = e^{\delta t\,\mathcal L} + O(\delta t^{p+1}),

    with the Trotter product formulas :math:`S_2`, :math:`S_4` of the module docstring and a
    truncated SVD after every gate.

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
        Truncation cutoff, recording interval, stationarity criterion.
    stop_when_stationary : bool
        Stop as soon as the stationarity criterion holds (used by :func:`steady_state`).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Evolution

    Raises
    ------
    ValueError
        For invalid arguments (the message names the parameter).
    """
    n_steps, every, options = _check_args(model, lattice, chi, dt, t_final, order, options)
    start = time.perf_counter()
    stepper = _Stepper(model, lattice, dt, order, options.pauli_scale)
    s = options.pauli_scale
    state = _PauliMPS(np.array([1.0, s, s, s]) * _DOWN, lattice.N, int(chi), options.cutoff, s,
                      options.svd_method)
    center = _center_sites(lattice)
    times, mus, traces, errors, bonds_max = [], [], [], [], []

    def record(n):
        tr, mu = state.magnetization()
        times.append(n * dt)
        mus.append(mu)
        traces.append(tr)
        errors.append(state.discarded)
        bonds_max.append(state.max_bond())

    def stationary() -> bool:
        n_window = int(round(options.window / (every * dt)))
        if len(mus) <= n_window or n_window < 1:
            return False
        recent = np.array([m[center].mean(0) for m in mus[-n_window - 1:]])
        return float(np.abs(recent - recent[-1]).max()) < options.tol

    record(0)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_steps, desc=f"MPO χ={chi}", leave=False)
    n = 0
    status = "reached t_final"
    with threadpool_limits(options.blas_threads, user_api="blas"):
        while n < n_steps:
            n_sub = min(every, n_steps - n)
            stepper.advance(state, n_sub)
            n += n_sub
            record(n)
            if bar is not None:
                bar.update(n_sub)
            if not np.all(np.isfinite(mus[-1])):
                status = f"non-finite observables at t = {n * dt:g}"
                break
            if stop_when_stationary and stationary():
                status = f"stationary at t = {n * dt:g}"
                break
    if bar is not None:
        bar.close()

    mu_sites = np.array(mus)
    envs = state.environments()
    finite = bool(np.all(np.isfinite(mu_sites)))
    conv = finite and stationary()
    crit = f"|Δμ_center| < {options.tol:g} over the last {options.window:g}"
    message = (f"{status}; {'stationary' if conv else 'NOT stationary'} ({crit}); "
               f"discarded weight {state.discarded:.2e}, max bond {state.max_bond()}")
    return Evolution(
        times=np.array(times), mu_sites=mu_sites, mu_center=mu_sites[:, center].mean(1),
        trace=np.array(traces), truncation_error=np.array(errors),
        max_bond=np.array(bonds_max),
        correlations=_correlations(state, lattice, mu_sites[-1], int(center[0]), envs),
        center_sites=center, state=state.to_quimb() if options.keep_state else None,
        chi=int(chi), dt=float(dt), order=int(order), wall_time=time.perf_counter() - start,
        converged=conv,
        message=message)


def steady_state(model: Model, lattice: Lattice, chi: int, dt: float = 0.1,
                 t_max: float = 30.0, order: int = 4, *, options: MPOOptions | None = None,
                 progress: bool = False) -> SteadyState:
    """Steady state by time evolution from all spins down (App. C), stopped once the central
    magnetization is stationary (``options.tol`` over ``options.window``) or at ``t_max``.

    Parameters are those of :func:`evolve` (``t_max`` in place of ``t_final``); the default
    records every 0.5 time units.

    Returns
    -------
    SteadyState
        ``converged`` is False (and ``message`` says so) when ``t_max`` was reached first.
    """
    try:
        _check_args(model, lattice, chi, dt, t_max, order, options)
    except ValueError as err:
        raise ValueError(str(err).replace("t_final", "t_max")) from None
    if options is None:
        options = MPOOptions(record_every=dt * max(1, int(round(0.5 / dt))))
    ev = evolve(model, lattice, chi, dt, t_max, order, options=options,
                stop_when_stationary=True, progress=progress)
    return SteadyState(mu=ev.mu_center[-1], mu_sites=ev.mu_sites[-1],
                       correlations=ev.correlations,
                       truncation_error=float(ev.truncation_error[-1]), evolution=ev,
                       converged=ev.converged, message=ev.message)
