r"""Green's-function solve: η slaved to μ at a fixed point (see :mod:`ddlib.mfqf`).

For fixed μ the correlator equations are linear and translation invariant up to the defect
sites R = 0, ±e_i; in Fourier space the bulk operator is the Lyapunov map
:math:`X \mapsto M_kX + XM_k^{\mathsf T}`, :math:`M_k = A + J\varphi_k Q`. Its lattice Green's
function at a handful of displacements turns the defect sites into a small dense system.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .equations import _PA, _PB, PAIRS, _coefficients, _Geometry

# --------------------------------------------------------------------------------- steady state

def _lyapunov_basis() -> np.ndarray:
    """(36, 9): the map M ↦ (6×6 matrix of X ↦ MX + XMᵀ), linear in M, on the unit M's."""
    T = np.empty((6, 6, 9))
    for m in range(9):
        M = np.zeros(9)
        M[m] = 1.0
        M = M.reshape(3, 3)
        for q, (a, b) in enumerate(PAIRS):
            E = np.zeros((3, 3))
            E[a, b] = E[b, a] = 1.0
            T[:, q, m] = (M @ E + E @ M.T)[_PA, _PB]
    return T.reshape(36, 9)


_LYAPUNOV = _lyapunov_basis()


def _lyapunov(M: np.ndarray) -> np.ndarray:
    """6×6 matrix of the map X ↦ MX + XMᵀ on packed symmetric 3×3 matrices."""
    return (_LYAPUNOV @ np.asarray(M, dtype=float).ravel()).reshape(6, 6)


@dataclass(frozen=True, eq=False)
class _Fourier:
    """Wave vectors of the lattice: on the reflection-reduced half grid k_i ∈ [0, π], up to
    permutations of the k_i, φ_k and the weights of the Green's functions at the few
    displacements the defect problem needs; φ_k on the full FFT grid."""

    phi_half: np.ndarray   # (nk,) φ_k = 2 Σ cos k_i on the half grid, one k per permutation set
    phi_full: np.ndarray   # shape: φ_k on the full FFT grid
    disps: list            # displacements Δ: 0, e_j, 2e_j, e_i + e_j (i < j)
    cos_disp: np.ndarray   # (n_disp, nk) multiplicity/N × cos(k·Δ) averaged over k_i → −k_i

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def of(geo: _Geometry) -> _Fourier:
        """The wave-vector tables of ``geo`` (cached: a sweep solves on one lattice often)."""
        axes, weights = [], []
        for L in geo.shape:
            n = np.arange(L // 2 + 1)
            axes.append(2 * np.pi * n / L)
            weights.append(np.where((n == 0) | (2 * n == L), 1.0, 2.0))
        ks = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")])
        w = np.prod(np.stack([g.ravel() for g in np.meshgrid(*weights, indexing="ij")]), axis=0)
        full = sum(2 * np.cos(2 * np.pi * np.fft.fftfreq(L)).reshape(
            [-1 if i == j else 1 for j in range(geo.dim)]) for i, L in enumerate(geo.shape))
        unit = np.eye(geo.dim, dtype=int)
        disps = [tuple(v) for v in [0 * unit[0], *unit, *(2 * unit)]]
        disps += [tuple(unit[i] + unit[j]) for i in range(geo.dim)
                  for j in range(i + 1, geo.dim)]
        cos_disp = np.prod(np.cos(np.array(disps)[:, :, None] * ks[None]), axis=1) * w / geo.N
        # the sums depend on k only through φ_k: one term per set of permuted wave vectors
        # (same φ_k), its weights summed (L^D/2^D D! terms instead of L^D/2^D on L^D)
        _, rep, group = np.unique(np.sort(ks, axis=0), axis=1, return_index=True,
                                  return_inverse=True)
        group = group.ravel()
        cos_disp = np.stack([np.bincount(group, weights=row, minlength=rep.size)
                             for row in cos_disp])
        return _Fourier(2 * np.cos(ks[:, rep]).sum(axis=0),
                        np.broadcast_to(full, geo.shape), disps, cos_disp)


class _Resolvent:
    r"""The Lyapunov resolvent :math:`(K_A + t K_Q)^{-1}` for many scalars t at once.

    With the eigen-decomposition :math:`K_A^{-1}K_Q = V\,\mathrm{diag}(d)\,V^{-1}`,

    .. math::

        (K_A + tK_Q)^{-1} = V\,\mathrm{diag}\big(1/(1 + t d_j)\big)\,V^{-1}K_A^{-1},

    so a sum over wave vectors, :math:`\sum_k c_k (K_A + t_kK_Q)^{-1}`, is six scalar sums
    (6 n_k operations instead of n_k inversions of 6×6 matrices). When :math:`K_A` or V is
    ill-conditioned (cond product > 1e8: a nearly defective pencil), the batched direct
    inverse is used instead.
    """

    def __init__(self, KA: np.ndarray, KQ: np.ndarray):
        self.KA, self.KQ = KA, KQ
        self.direct = True
        with np.errstate(all="ignore"):
            if np.all(np.isfinite(KA)) and np.all(np.isfinite(KQ)) \
                    and np.linalg.cond(KA) < 1e8:
                KAinv = np.linalg.inv(KA)
                d, V = np.linalg.eig(KAinv @ KQ)
                if np.linalg.cond(V) * np.linalg.cond(KA) < 1e8:
                    self.d, self.V = d, V
                    self.W = np.linalg.solve(V, KAinv)  # V⁻¹ K_A⁻¹
                    self.direct = False

    def sums(self, t: np.ndarray, C: np.ndarray) -> np.ndarray:
        """(n, 6, 6): Σ_k C[n, k] (K_A + t_k K_Q)^{-1}; t (nk,), C (n, nk)."""
        if self.direct:
            Kinv = np.linalg.inv(self.KA[None] + t[:, None, None] * self.KQ[None])
            return np.tensordot(C, Kinv, axes=(1, 0))
        g = C @ (1.0 / (1.0 + np.outer(t, self.d)))  # (n, 6)
        return np.einsum("ij,nj,jk->nik", self.V, g, self.W).real

    def apply(self, t: np.ndarray, h: np.ndarray) -> np.ndarray:
        """(6, nk): column k is (K_A + t_k K_Q)^{-1} h[:, k]; t (nk,), h (6, nk)."""
        if self.direct:
            K = self.KA[None] + t[:, None, None] * self.KQ[None]
            return np.linalg.solve(K, h.T[..., None])[..., 0].T
        u = (self.W @ h) / (1.0 + np.outer(self.d, t))
        return (self.V @ u).real


def _reduced(mu, const, geo: _Geometry, fk: _Fourier, full: bool = False):
    """∂_t μ with η slaved to its fixed point at this μ (and the η field when ``full``).

    For fixed μ, η solves 𝓑η = h with the Lyapunov operator 𝓑 of the bulk and a force h on
    R = 0, ±e_i: h(0) enforces η(0) = 0, h(±e_i) = −(Cη(e_i) + source). Inversion symmetry
    leaves 6(1 + D) unknowns, solved with the Green's function of 𝓑 (:class:`_Resolvent`).
    """
    J, W = const.J, const.W
    A, Q, P, src, dmu0 = _coefficients(mu, const, geo.Z)
    res = _Resolvent(_lyapunov(A), _lyapunov(Q))
    dim = geo.dim
    unit = np.eye(dim, dtype=int)
    G = dict(zip(fk.disps, res.sums(J * fk.phi_half, fk.cos_disp), strict=True))
    G0 = G[fk.disps[0]]
    G1 = [G[tuple(unit[j])] for j in range(dim)]

    def pair(i, j):  # the Green's function block coupling the forces at e_i and e_j
        return G0 + G[tuple(2 * unit[j])] if i == j else 2 * G[tuple(unit[i] + unit[j])]

    # η(e_j) = G1[j] h(0) + Σ_i pair(i, j) h(e_i): row block j of `resp` (6 dim, 6(1 + dim))
    resp = np.block([[G1[j]] + [pair(i, j) for i in range(dim)] for j in range(dim)])
    Cop = -J * _lyapunov(P)
    for p, (a, b) in enumerate(PAIRS):
        Cop[p] -= J * (W[a] * mu[b] + mu[a] * W[b])
    n = 6 * (1 + dim)
    M = np.empty((n, n))
    M[:6] = np.hstack([G0] + [2 * G1[i] for i in range(dim)])
    M[6:] = np.einsum("pq,jqc->jpc", Cop, resp.reshape(dim, 6, n)).reshape(6 * dim, n)
    M[6:, 6:] += np.eye(6 * dim)
    rhs_vec = np.concatenate([np.zeros(6), np.tile(-src, dim)])
    try:
        h = np.linalg.solve(M, rhs_vec)
    except np.linalg.LinAlgError:
        return np.full(3, np.nan), None
    x_nn = (resp @ h).reshape(dim, 6)
    h = h.reshape(1 + dim, 6)
    dmu = dmu0 + 2 * J * W @ x_nn.sum(axis=0)
    if not full:
        return dmu, None
    hk = np.broadcast_to(h[0].reshape((6,) + (1,) * dim), (6, *geo.shape)).copy()
    for i, L in enumerate(geo.shape):
        cos_k = np.cos(2 * np.pi * np.fft.fftfreq(L)).reshape([-1 if k == i else 1
                                                               for k in range(dim)])
        hk += 2 * cos_k[None] * h[1 + i].reshape((6,) + (1,) * dim)
    xk = res.apply(J * fk.phi_full.ravel(), hk.reshape(6, -1))
    x = np.fft.ifftn(xk.reshape((6, *geo.shape)), axes=tuple(range(1, dim + 1))).real
    x = x.reshape(6, geo.N)
    x[:, 0] = 0.0  # already so, up to rounding (h(0) enforces it)
    return dmu, x


def _bulk_growth(mu, const, geo: _Geometry, fk: _Fourier) -> float:
    r"""Largest growth rate of the bulk correlator modes at μ (η dynamics with μ frozen, far
    from the defect sites): :math:`\max_k 2\,\mathrm{Re}\,\alpha(A + J\varphi_k Q)`, the
    rightmost eigenvalue of the Lyapunov maps :math:`X \mapsto M_kX + XM_k^{\mathsf T}`.
    Positive where a correlator mode is unstable; where it crosses zero the slaved η of
    :func:`_reduced` has a pole."""
    A, Q, *_ = _coefficients(mu, const, geo.Z)
    t = np.unique(const.J * fk.phi_half)
    return 2.0 * float(np.linalg.eigvals(A[None] + t[:, None, None] * Q[None]).real.max())
