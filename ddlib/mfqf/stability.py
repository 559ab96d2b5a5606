r"""Stability and the relaxation rate κ: the rightmost eigenvalue of the MFQF Jacobian among
lattice-symmetric perturbations (see :func:`_jacobian_spectrum`)."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from .equations import _Geometry, _orbit_tables, _rhs_flat


def _orbit_jvp(mu, x, geo: _Geometry, const):
    """Jacobian-vector product of the symmetric sector at (mu, x) (see
    :func:`_jacobian_spectrum`), the orbit geometry and the indices of the R = 0 orbit."""
    orb = _orbit_tables(geo)
    y0 = np.concatenate([mu, x[:, geo.rep].ravel()])
    origin = 3 + np.arange(6) * orb.N + geo.orbit[0]

    def jvp(u):
        u = np.array(u, dtype=float).ravel()
        pinned = u[origin].copy()
        u[origin] = 0.0
        h = 1e-5 / max(np.linalg.norm(u), 1e-300)
        out = (_rhs_flat(y0 + h * u, orb, const) - _rhs_flat(y0 - h * u, orb, const)) / (2 * h)
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
    branch, where the uniform correlator mode softens); the Jacobian is then assembled as a
    sparse matrix (:func:`_sparse_jacobian`) and the eigenvalue nearest zero found by
    shift-invert (SuperLU), which converges in tens of solves there. If that eigenvalue is
    negative while the sign of the determinant (from the LU factors) says an odd number of
    real eigenvalues are positive, or shift-invert fails, the plain ARPACK iteration is run to
    completion.
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
            Jk = _sparse_jacobian(jvp, orb, n)[keep][:, keep].tocsc()
            lu = scipy.sparse.linalg.splu(Jk, permc_spec="MMD_AT_PLUS_A")
            inv = scipy.sparse.linalg.LinearOperator(Jk.shape, matvec=lu.solve, dtype=float)
            ev = scipy.sparse.linalg.eigs(Jk, k=1, sigma=0.0, which="LM", OPinv=inv, tol=tol,
                                          v0=v0[keep], return_eigenvectors=False)
            if ev[0].real < 0 and _odd_positive(lu):  # a growing real mode further from 0
                ev = rightmost(5000)
        except (RuntimeError, scipy.sparse.linalg.ArpackNoConvergence):  # singular, stuck
            ev = rightmost(5000)
    return ev[np.argsort(-ev.real)]


def _odd_positive(lu) -> bool:
    """Whether the LU-factorised real matrix has an odd number of positive real eigenvalues:
    sign(det) = (−1)^(n + #positive), complex pairs counting +1."""
    def parity(perm):  # (−1)^(n − number of cycles)
        seen, cycles = np.zeros(perm.size, bool), 0
        for i in range(perm.size):
            if not seen[i]:
                cycles += 1
                while not seen[i]:
                    seen[i], i = True, perm[i]
        return (perm.size - cycles) % 2
    diag = lu.U.diagonal()
    negative = int(np.count_nonzero(diag < 0)) + parity(lu.perm_r) + parity(lu.perm_c)
    return (negative + diag.size) % 2 == 1


#: ARPACK restarts of the plain rightmost-eigenvalue iteration before shift-invert is used
#: (converged within ~30 where κ ≳ 0.1; near a branch end it would need thousands).
_LR_RESTARTS = 30


def _sparse_jacobian(jvp, orb: _Geometry, n: int) -> scipy.sparse.csr_matrix:
    """The Jacobian behind ``jvp`` on the orbit geometry as a sparse (n, n) matrix.

    Row (q, o) of η depends on the columns (p, o') with o' = o or a neighbour of o; the μ rows
    on the nearest-neighbour orbit; every row on μ. Orbits that share no dependent row get
    one colour (greedy distance-2 colouring), and one product per colour and component
    yields all their columns at once (~6 × 7 products in 2D, plus 3 for μ).
    """
    n_orb = orb.N
    deps = np.concatenate([np.arange(n_orb)[:, None], orb.nbr], axis=1)  # (n_orb, 1 + Z)
    rows = np.repeat(np.arange(n_orb), deps.shape[1])
    A = scipy.sparse.csr_matrix((np.ones(rows.size), (rows, deps.ravel())), (n_orb, n_orb))
    conflict = (A.T @ A).tocsr()
    color = np.full(n_orb, -1)
    for o in range(n_orb):
        taken = set(color[conflict.indices[conflict.indptr[o]:conflict.indptr[o + 1]]])
        color[o] = next(c for c in itertools.count() if c not in taken)
    color[orb.nn] = color.max() + 1  # the μ rows depend on the nearest-neighbour orbit only
    R, C, V = [], [], []
    for c in range(color.max() + 1):
        hit = color[deps] == c
        has = np.flatnonzero(hit.any(axis=1))
        owner = deps[has, hit[has].argmax(axis=1)]  # the colour-c orbit each row depends on
        members = np.flatnonzero(color == c)
        for p in range(6):
            u = np.zeros(n)
            u[3 + p * n_orb + members] = 1.0
            out = jvp(u)
            for q in range(6):
                R.append(3 + q * n_orb + has)
                C.append(3 + p * n_orb + owner)
                V.append(out[R[-1]])
            if np.isin(orb.nn, members).any():
                R.append(np.arange(3))
                C.append(np.full(3, 3 + p * n_orb + orb.nn[0]))
                V.append(out[:3])
    for i in range(3):
        R.append(np.arange(n))
        C.append(np.full(n, i))
        V.append(jvp(np.eye(1, n, i).ravel()))
    return scipy.sparse.csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(C))),
                                   (n, n))
