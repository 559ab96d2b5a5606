r"""Stability and the relaxation rate κ: the rightmost eigenvalue of the MFQF Jacobian among
lattice-symmetric perturbations (see :func:`_jacobian_spectrum`)."""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.sparse.linalg

from .equations import _coefficients, _Geometry, _orbit_tables, _rhs_flat, _rhs_kernel
from .green import _lyapunov


def _orbit_jvp(mu, x, geo: _Geometry, const):
    """Jacobian-vector product of the symmetric sector at (mu, x) (see
    :func:`_jacobian_spectrum`), the orbit geometry and the indices of the R = 0 orbit.

    The right-hand side is affine in η at fixed μ: its η part is the kernel itself with the
    η-independent source set to zero, one kernel call per product. The three μ columns
    (A, Q, P and the sources depend on μ; cubic in it) are central differences with step
    1e-5 (error O(1e-10)), computed once.
    """
    orb = _orbit_tables(geo)
    n_orb = orb.N
    n = 3 + 6 * n_orb
    y0 = np.concatenate([mu, x[:, geo.rep].ravel()])
    origin = 3 + np.arange(6) * n_orb + geo.orbit[0]
    h = 1e-5
    cols = np.column_stack([(_rhs_flat(y0 + h * e, orb, const) - _rhs_flat(y0 - h * e, orb, const))
                            / (2 * h) for e in np.eye(n, 3).T])  # (n, 3)
    A, Q, P, *_ = _coefficients(mu, const, orb.Z)
    no_source = np.zeros(6)
    mu_rows = const.J * orb.nn_weight * const.W  # ∂_t μ = ... + J 2D W η(e_1)

    def jvp(u):
        u = np.asarray(u, dtype=float).ravel()
        ux = u[3:].reshape(6, n_orb).copy()
        pinned = ux[:, 0].copy()  # the R = 0 orbit: origin = 3 + p n_orb (orbit 0 is R = 0)
        ux[:, 0] = 0.0
        out = np.empty(n)
        _rhs_kernel(mu, ux, orb.nbr, orb.nn, orb.inv, A, Q, P, const.W, no_source, const.J,
                    out[3:].reshape(6, n_orb))
        out[:3] = mu_rows @ ux[:, orb.nn].sum(axis=1)
        out += cols @ u[:3]
        out[origin] = -const.Gamma * pinned
        return out

    return jvp, orb, origin


def _jacobian_spectrum(mu, x, geo: _Geometry, const, tol: float):
    """Rightmost eigenvalue(s) of the Jacobian of (μ, η(R ≠ 0)) at (mu, x), sorted.

    Restricted to perturbations with the symmetry of the lattice (each η_ab constant on the
    orbits of R under reflections and axis permutations), the only ones the MFQF dynamics of a
    symmetric state can excite; this shrinks the problem 2^D D!-fold. Jacobian-vector products
    by central differences (the equations are cubic: O(h²) error, h ~ 1e-5) of the right-hand
    side evaluated on the orbits themselves (:func:`_orbit_tables`: one site per orbit, its
    neighbours replaced by their orbits; as cheap as the orbit count). The orbit of
    R = 0 (not a variable) is mapped to −Γ times itself, a decoupled block a start vector
    without it never excites. Dense eigenvalues for small systems, otherwise the rightmost one
    with ARPACK. When that has not converged within ``_LR_RESTARTS`` restarts, the rightmost
    eigenvalue sits in a dense cluster of slow modes next to zero (κ ≲ 0.05: near the end of a
    branch, where the uniform correlator mode softens); the eigenvalue nearest zero is then
    found by shift-invert, with the structured solve of :class:`_ShiftInvert` (the bulk
    operator inverted in cosine space, the defect columns by a rank-15 update; no
    factorisation, a working set of a few fields), which converges in tens of solves there.
    If that eigenvalue is negative while the sign of the determinant says an odd number of
    real eigenvalues are positive, or the solve is singular, the plain ARPACK iteration is run
    to completion.
    """
    jvp, orb, origin = _orbit_jvp(mu, x, geo, const)
    n = 3 + 6 * orb.N
    keep = np.setdiff1d(np.arange(n), origin)
    if n <= 600:
        ev = np.linalg.eigvals(np.column_stack([jvp(e) for e in np.eye(n)])[np.ix_(keep, keep)])
        return ev[np.argsort(-ev.real)]
    v0 = np.ones(n)
    v0[origin] = 0.0
    op = scipy.sparse.linalg.LinearOperator((n, n), matvec=jvp, dtype=float)

    def rightmost(maxiter):
        return scipy.sparse.linalg.eigs(op, k=1, which="LR", tol=tol, ncv=40, maxiter=maxiter,
                                        v0=v0, return_eigenvectors=False)

    try:
        ev = rightmost(_LR_RESTARTS)
    except scipy.sparse.linalg.ArpackNoConvergence:
        try:
            si = _ShiftInvert(jvp, mu, geo, orb, const)
            inv = scipy.sparse.linalg.LinearOperator((n, n), matvec=si.solve, dtype=float)
            ev = scipy.sparse.linalg.eigs(op, k=1, sigma=0.0, which="LM", OPinv=inv, tol=tol,
                                          v0=v0, return_eigenvectors=False)
            if ev[0].real < 0 and si.odd_positive:  # a growing real mode further from 0
                ev = rightmost(5000)
        except (np.linalg.LinAlgError, scipy.sparse.linalg.ArpackNoConvergence):  # singular
            ev = rightmost(5000)
    return ev[np.argsort(-ev.real)]


#: ARPACK restarts of the plain rightmost-eigenvalue iteration before shift-invert is used
#: (converged within ~30 where κ ≳ 0.1; near a branch end it would need thousands).
_LR_RESTARTS = 30

#: The bulk operator's value on the μ block (any nonzero number: the difference to the
#: Jacobian's μ block is part of the rank-15 update of :class:`_ShiftInvert`).
_MU_BULK = -1.0


class _ShiftInvert:
    r"""The solve :math:`x = \mathcal J^{-1} b` with the symmetric-sector Jacobian of
    :func:`_orbit_jvp`, without assembling or factorising it.

    **Structure.** Let :math:`\mathcal B` act on (μ, η) as :data:`_MU_BULK` times μ and on
    the correlators as the bulk Lyapunov map of the right-hand side with μ frozen,
    :math:`\eta(R) \mapsto A\eta(R) + \eta(R)A^{\mathsf T} + J(QS(R) + S(R)Q^{\mathsf T})`,
    :math:`S(R) = \sum_\delta\eta(R+\delta)`, at every R, R = 0 included. The Jacobian
    differs from it only in the columns of μ (through A, Q, P and the sources), of the pinned
    orbit R = 0 (left out of S in the equations, −Γ on itself), and of the nearest-neighbour
    orbit (the three-point terms): :math:`\mathcal J = \mathcal B + UE_T^{\mathsf T}` with
    :math:`U = (\mathcal J - \mathcal B)E_T`, T the 3 + 6 + 6 indices of μ, η(0), η(e_1).
    The rows of those orbits and of μ depend on nothing outside T either, which makes the
    update exact with columns only. :math:`\mathcal B` is diagonal in wave vectors: on a
    field symmetric under reflections, the lattice Fourier transform is a cosine transform
    on the quadrant :math:`0 \le R_i \le L/2` (DCT-I per axis for even L), and
    :math:`\mathcal B_k = K_A + J\varphi_kK_Q` with the 6×6 Lyapunov matrices of A and Q,
    :math:`\varphi_k = 2\sum_i\cos k_i`. Woodbury's identity then gives

    .. math::

        \mathcal J^{-1} = -\big(M^{-1} + M^{-1}U\,(I - E_T^{\mathsf T}M^{-1}U)^{-1}
        E_T^{\mathsf T}M^{-1}\big),\qquad M = -\mathcal B,

    one cosine transform pair per solve plus a 15-column update. The matrix determinant
    lemma gives :math:`\det(-\mathcal J) = \det M\,\det(I - E_T^{\mathsf T}M^{-1}U)`,
    :math:`\det M` the product of :math:`\det(-\mathcal B_k)` over one wave vector per
    orbit of the point group (the symmetric sector holds one mode per orbit): its sign is
    :math:`(-1)^{\#\{\text{positive real eigenvalues of } \mathcal J\}}`.

    Raises ``numpy.linalg.LinAlgError`` where M or the 15×15 capacitance is singular.
    """

    def __init__(self, jvp, mu, geo: _Geometry, orb: _Geometry, const):
        A, Q, *_ = _coefficients(mu, const, geo.Z)
        self.KA, self.KQ, self.J = _lyapunov(A), _lyapunov(Q), const.J
        self.orb, self.n_orb, self.dim = orb, orb.N, geo.dim
        self.L = geo.shape[0]
        half = geo.shape[0] // 2 + 1  # the quadrant 0 ≤ R_i ≤ L/2 (L periodic, all axes equal)
        quadrant = geo.orbit.reshape(geo.shape)[(slice(0, half),) * geo.dim]
        self.expand = quadrant  # orbit of each quadrant site
        _, self.pick = np.unique(quadrant.ravel(), return_index=True)  # a site per orbit
        cos_k = 2 * np.cos(2 * np.pi * np.arange(half) / self.L)
        phi = sum(cos_k.reshape([-1 if i == j else 1 for j in range(geo.dim)])
                  for i in range(geo.dim)).ravel()
        Mk = -(self.KA[None] + const.J * phi[:, None, None] * self.KQ[None])  # (nk, 6, 6)
        self.G = np.linalg.inv(Mk).transpose(1, 2, 0).copy()  # (6, 6, nk)
        sign_M = np.prod(np.linalg.slogdet(Mk[self.pick])[0])
        if not self.L % 2:
            self.cos = None
        else:  # odd L: the cosine transform as a matrix, w_j cos(2π jk/L)
            j = np.arange(half)
            self.cos = np.where(j == 0, 1.0, 2.0) * np.cos(2 * np.pi * np.outer(j, j) / self.L)
        n = 3 + 6 * self.n_orb
        self.T = np.concatenate([np.arange(3), 3 + np.arange(6) * self.n_orb,
                                 3 + np.arange(6) * self.n_orb + orb.nn[0]])
        E = np.zeros((n, self.T.size))
        E[self.T, np.arange(self.T.size)] = 1.0
        U = np.column_stack([jvp(e) for e in E.T]) - self._bulk(E)
        self.W = self._minv(U)
        K = np.eye(self.T.size) - self.W[self.T]
        self.K = scipy.linalg.lu_factor(K, check_finite=True)
        if np.any(np.diag(self.K[0]) == 0):
            raise np.linalg.LinAlgError("singular capacitance matrix")
        self.odd_positive = bool(sign_M * np.linalg.det(K) < 0)

    def _bulk(self, u: np.ndarray) -> np.ndarray:
        """:math:`\\mathcal B u` for the columns of u, shape (n, m)."""
        y = u[3:].reshape(6, self.n_orb, -1)
        S = y[:, self.orb.nbr].sum(axis=2)  # (6, n_orb, m)
        out = np.empty_like(u)
        out[:3] = _MU_BULK * u[:3]
        out[3:] = (np.einsum("pq,qom->pom", self.KA, y)
                   + self.J * np.einsum("pq,qom->pom", self.KQ, S)).reshape(-1, u.shape[1])
        return out

    def _transform(self, f: np.ndarray, inverse: bool) -> np.ndarray:
        """Lattice Fourier transform of reflection-symmetric fields on the quadrant, over the
        last ``dim`` axes (the inverse divides by L per axis)."""
        axes = tuple(range(f.ndim - self.dim, f.ndim))
        if self.cos is None:
            return (scipy.fft.idctn if inverse else scipy.fft.dctn)(f, type=1, axes=axes)
        for ax in axes:
            f = np.moveaxis(np.tensordot(f, self.cos, axes=(ax, 1)), -1, ax)
        return f / self.L ** self.dim if inverse else f

    def _minv(self, b: np.ndarray) -> np.ndarray:
        """:math:`M^{-1}b = -\\mathcal B^{-1}b` for the columns of b, shape (n, m)."""
        m = b.shape[1]
        out = np.empty_like(b)
        out[:3] = -b[:3] / _MU_BULK
        y = b[3:].reshape(6, self.n_orb, m)[:, self.expand]  # (6, *quadrant, m)
        y = np.moveaxis(y, -1, 1)  # (6, m, *quadrant)
        yk = self._transform(y, False).reshape(6, m, -1)
        zk = np.einsum("pqk,qmk->pmk", self.G, yk)
        z = self._transform(zk.reshape(y.shape), True).reshape(6, m, -1)
        out[3:] = np.moveaxis(z[:, :, self.pick], 1, -1).reshape(-1, m)
        return out

    def solve(self, b: np.ndarray) -> np.ndarray:
        """:math:`\\mathcal J^{-1}b`, b of shape (n,)."""
        y = self._minv(np.asarray(b, dtype=float).reshape(-1, 1))[:, 0]
        return -(y + self.W @ scipy.linalg.lu_solve(self.K, y[self.T]))
