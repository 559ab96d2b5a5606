r"""Slow reference routes, for checking the solvers (not for production runs).

* :func:`mfqf_rhs_reference` — the closed MFQF right-hand side (Eqs. 4–6 and D4–D6) on a
  concrete small periodic lattice, by brute-force Pauli algebra (:mod:`ddlib.pauli`; no
  symmetry shortcuts): the independent reference the fast solver :mod:`ddlib.mfqf` is tested
  against; :func:`reference_evolution` integrates it in time.
* the exact route on small lattices (QuTiP, independent of the Pauli algebra):
  :func:`correlated_product_state`, :func:`symmetric_pair_amplitudes`, :func:`exact_rates`
  (μ, η and their exact rates of change), :func:`lindblad_evolution` (exact μ(t), site by
  site and averaged, on any small lattice: open chains and cylinders too).

How App. D as printed compares with these lives in :mod:`ddlib.paper.appendix_d`.
Conventions as in :mod:`ddlib.model`; Γ = 1 unless the model says otherwise.

Examples
--------
At J = 0 the spins are independent and mean field is exact: the exact μ(t) of a ring of
three spins, from all spins down, is the MF trajectory.

>>> import numpy as np
>>> from ddlib import Model, lattice, meanfield
>>> from ddlib.reference import lindblad_evolution
>>> free = Model(Delta=1.0, Omega=0.5, J=0.0)
>>> exact = lindblad_evolution(free, lattice.chain(3), 10.0, n_times=101)
>>> mf = meanfield.evolve(free, 2, 10.0, options=meanfield.EvolveOptions(n_times=101))
>>> exact.success, bool(np.abs(exact.mu - mf.mu).max() < 1e-6)
(True, True)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .lattice import Lattice, check_lattice
from .meanfield import Trajectory as _MFTrajectory
from .model import Model
from .pauli import (
    _PAULI,
    PauliSum,
    _adjoint,
    _check_model_lattice,
    _real_array,
    closed_expectation,
    hamiltonian_paulis,
)
from .resources import available_memory, check_memory

__all__ = ["mfqf_rhs_reference", "symmetric_pair_amplitudes", "correlated_product_state",
           "ExactRates", "exact_rates", "MagnetisationTrajectory", "lindblad_evolution",
           "reference_evolution"]


# --------------------------------------------------------------------------------------------
# The closed right-hand side on a concrete lattice (reference for ddlib.mfqf)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _images(model: Model, lattice: Lattice):
    """L†[σ^a_0] for a in xyz, and L†[σ^a_s σ^b_0] for every site s ≠ 0, a, b."""
    H = hamiltonian_paulis(model, lattice)
    one = [_adjoint(PauliSum.sigma(0, a), H, model.Gamma) for a in range(3)]
    two = {(s, a, b): _adjoint(PauliSum.string([(s, a), (0, b)]), H, model.Gamma)
           for s in range(1, lattice.N) for a in range(3) for b in range(3)}
    return one, two


def mfqf_rhs_reference(model: Model, lattice: Lattice, mu, eta) -> tuple[np.ndarray, np.ndarray]:
    r"""Closed MFQF right-hand side (Eqs. 4–6 and D4–D6) by brute-force Pauli algebra.

    For a translation-invariant state with magnetisation :math:`\mu_a` and connected
    correlators :math:`\eta_{ab}(R) = \langle\sigma^a_R\sigma^b_0\rangle - \mu_a\mu_b`,

    .. math::

        \partial_t\mu_a = \langle\mathcal L^\dagger[\sigma^a_0]\rangle,\qquad
        \partial_t\eta_{ab}(R) = \langle\mathcal L^\dagger[\sigma^a_R\sigma^b_0]\rangle_{\zeta=0}
            - \partial_t\mu_a\,\mu_b - \mu_a\,\partial_t\mu_b,

    where :math:`\langle\cdot\rangle_{\zeta=0}` closes three-point strings with
    :func:`closed_expectation`. No lattice symmetry beyond translations is used; every
    displacement R of the finite periodic lattice is treated separately (slow, for small
    lattices and tests — the fast solver is :mod:`ddlib.mfqf`).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        A periodic ``chain(L)`` or ``hypercubic(L, dim)``.
    mu : array_like, shape (3,)
        :math:`(\mu_x, \mu_y, \mu_z)`.
    eta : array_like, shape (3, 3, *lattice.shape)
        ``eta[a, b][R]`` = :math:`\eta_{ab}(R)`, the displacement R indexed modulo L per axis;
        ``eta[:, :, 0, ..., 0]`` is ignored. A two-point value is read as
        :math:`\tfrac12[\eta_{ab}(R) + \eta_{ba}(-R)]` (both are
        :math:`\langle\sigma^a_R\sigma^b_0\rangle_c` in a translation-invariant state).

    Returns
    -------
    dmu : ndarray, shape (3,)
        :math:`\partial_t\mu_a` (exact given η(1): no closure enters Eqs. 4–6).
    deta : ndarray, shape (3, 3, *lattice.shape)
        :math:`\partial_t\eta_{ab}(R)`, zero at R = 0. Units: Γ.

    Raises
    ------
    ValueError
        For a lattice that is not a periodic chain/hypercubic one, or ``mu``/``eta`` of the
        wrong shape or not finite and real.

    Examples
    --------
    The fast MFQF right-hand side (:func:`ddlib.mfqf.rhs`, Fourier tables and a numba kernel)
    agrees with this term-by-term algebra at a correlated state of a six-site ring:

    >>> import numpy as np
    >>> from ddlib import Model, lattice, mfqf
    >>> ring, model = lattice.chain(6), Model(Delta=1.0, Omega=0.5, J=0.2)
    >>> mu, eta = np.array([0.1, 0.2, -0.5]), symmetric_pair_amplitudes(ring)
    >>> slow, fast = mfqf_rhs_reference(model, ring, mu, eta), mfqf.rhs(model, ring, mu, eta)
    >>> all(bool(np.allclose(s, f, atol=1e-12)) for s, f in zip(slow, fast))
    True
    """
    _check_model_lattice(model, lattice)
    _check_reference_lattice(lattice)
    shape = tuple(lattice.shape)
    mu = _real_array("mu", mu, (3,))
    eta = _real_array("eta", eta, (3, 3, *shape))
    coords = np.asarray(lattice.coords)
    disp = {(i, j): tuple(int(v) for v in (coords[i] - coords[j]) % shape)
            for i in range(lattice.N) for j in range(lattice.N) if i != j}

    def one(site, a):
        return mu[a]

    def two(A, B):
        (i, a), (j, b) = A, B
        return mu[a] * mu[b] + 0.5 * (eta[(a, b) + disp[i, j]] + eta[(b, a) + disp[j, i]])

    images_one, images_two = _images(model, lattice)
    dmu = np.array([closed_expectation(images_one[a], one, two).real for a in range(3)])
    deta = np.zeros_like(eta)
    for (s, a, b), image in images_two.items():
        dtheta = closed_expectation(image, one, two).real
        deta[(a, b) + tuple(int(v) for v in coords[s])] = (
            dtheta - dmu[a] * mu[b] - mu[a] * dmu[b])
    return dmu, deta


# --------------------------------------------------------------------------------------------
# The exact route (QuTiP, small lattices): what the closed equations are checked against
# --------------------------------------------------------------------------------------------


def _displacements(lattice: Lattice) -> np.ndarray:
    """disp[i, j] = index tuple of R_i − R_j modulo the lattice, shape (N, N, D)."""
    coords = np.asarray(lattice.coords)
    return (coords[:, None, :] - coords[None, :, :]) % np.asarray(lattice.shape)


@functools.lru_cache(maxsize=4)
def _site_operators(N: int) -> tuple:
    """σ^a on each site of N spins as sparse matrices, from QuTiP's Pauli matrices
    (independent of :class:`PauliSum`): ``ops[s][a]``, 2^N × 2^N."""
    import qutip
    from scipy import sparse

    single = [m.full() for m in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    return tuple(tuple(sparse.kron(sparse.kron(sparse.identity(2**s), single[a]),
                                   sparse.identity(2 ** (N - s - 1)), format="csr")
                       for a in range(3)) for s in range(N))


def _string_matrix(factors: dict, N: int):
    """Sparse product of σ^a on the given sites (``factors``: site → a) of N spins."""
    ops = _site_operators(N)
    out = None
    for s, a in factors.items():
        out = ops[s][a] if out is None else out @ ops[s][a]
    return out


def _trace_product(op, state) -> float:
    """Re tr(op · state) for a sparse op and a dense state."""
    return float(op.multiply(state.T).sum().real)


def correlated_product_state(lattice: Lattice, mu, c, eps: float) -> np.ndarray:
    r"""A translation-invariant state with pair correlations of order ε.

    .. math::

        \rho = \frac{(1 + \epsilon K)\,\rho_1^{\otimes N}(1 + \epsilon K)}
            {\operatorname{tr}[\dots]},\qquad
        \rho_1 = \tfrac12(1 + \vec\mu\cdot\vec\sigma),\qquad
        K = \sum_{i\neq j}\sum_{ab} c_{ab}(R_i - R_j)\,\sigma^a_i\sigma^b_j .

    ρ is Hermitian, positive and of unit trace; its connected two-point correlators are O(ε)
    and its connected three-point correlators O(ε²) (a first-order change of a product state
    by two-site terms correlates only pairs), so the MFQF closure errs at O(ε²).

    Parameters
    ----------
    lattice : Lattice
        Periodic lattice with coordinates (N ≲ 10: dense 2^N × 2^N matrices).
    mu : array_like, shape (3,)
        Bloch vector of ρ₁, |μ| ≤ 1.
    c : array_like, shape (3, 3, *lattice.shape)
        Pair amplitudes :math:`c_{ab}(R)` by displacement (R = 0 ignored).
    eps : float

    Returns
    -------
    ndarray, shape (2^N, 2^N)
    """
    check_lattice(lattice)
    if lattice.coords is None:
        raise ValueError(f"lattice must have site coordinates (a periodic lattice), got "
                         f"{lattice!r}")
    N = lattice.N
    mu = _real_array("mu", mu, (3,))
    if isinstance(eps, bool) or not isinstance(eps, Real) or not np.isfinite(eps):
        raise ValueError(f"eps must be a real number, got {eps!r}")
    _check_dense_state(lattice)
    if np.linalg.norm(mu) > 1 + 1e-12:
        raise ValueError(f"mu must satisfy |mu| <= 1, got |mu| = {np.linalg.norm(mu)}")
    c = _real_array("c", c, (3, 3, *lattice.shape))
    rho1 = 0.5 * (np.eye(2) + sum(m * s for m, s in zip(mu, _PAULI[:3], strict=True)))
    rho0 = np.ones((1, 1))
    for _ in range(N):
        rho0 = np.kron(rho0, rho1)
    disp = _displacements(lattice)
    ops = _site_operators(N)
    K = 0
    for i in range(N):
        for a in range(3):
            partner = sum(c[(a, b) + tuple(disp[i, j])] * ops[j][b]
                          for j in range(N) if j != i for b in range(3))
            K = K + ops[i][a] @ partner
    A = np.eye(2**N) + eps * K.toarray()
    rho = A @ rho0 @ A.conj().T
    return rho / np.trace(rho).real


@dataclass(frozen=True)
class ExactRates:
    r"""Exact μ, η and their time derivatives in a translation-invariant state.

    Attributes
    ----------
    mu, dmu : ndarray, shape (3,)
        :math:`\mu_a = \operatorname{tr}(\sigma^a_0\rho)` and
        :math:`\partial_t\mu_a = \operatorname{tr}(\sigma^a_0\mathcal L[\rho])`.
    eta, deta : ndarray, shape (3, 3, *lattice.shape)
        :math:`\eta_{ab}(R) = \operatorname{tr}(\sigma^a_R\sigma^b_0\rho) - \mu_a\mu_b` and
        its exact derivative; zero at R = 0 (layout of :func:`mfqf_rhs_reference`).
    translation_error : float
        Largest spread of ⟨σ^a_i⟩ over the sites (0 for a translation-invariant ρ).
    """

    mu: np.ndarray
    eta: np.ndarray
    dmu: np.ndarray
    deta: np.ndarray
    translation_error: float


@functools.lru_cache(maxsize=2)
def _liouvillian(model: Model, lattice: Lattice):
    from .model import liouvillian

    return liouvillian(model, lattice)


def exact_rates(model: Model, lattice: Lattice, rho) -> ExactRates:
    r"""μ, η and their exact rates of change :math:`\operatorname{tr}(O\,\mathcal L[\rho])`,
    with :math:`\mathcal L` the full Liouvillian of :func:`ddlib.model.liouvillian` (QuTiP;
    memory grows as 4^N: N ≤ 9 or so).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Periodic chain or hypercubic lattice.
    rho : ndarray, shape (2^N, 2^N)
        A translation-invariant density matrix.

    Returns
    -------
    ExactRates
    """
    import qutip

    _check_model_lattice(model, lattice)
    _check_reference_lattice(lattice)
    N = lattice.N
    try:
        rho = np.asarray(rho, dtype=complex)
    except (TypeError, ValueError):
        raise ValueError("rho must be a complex 2^N x 2^N matrix") from None
    if rho.shape != (2**N, 2**N):
        raise ValueError(f"rho must have shape {(2**N, 2**N)}, got {rho.shape}")
    dims = [[2] * N, [2] * N]
    drho = qutip.vector_to_operator(
        _liouvillian(model, lattice) @ qutip.operator_to_vector(qutip.Qobj(rho, dims=dims))
    ).full()
    ev = _trace_product
    per_site = np.array([[ev(_string_matrix({s: a}, N), rho) for a in range(3)]
                         for s in range(N)])
    mu = per_site[0]
    dmu = np.array([ev(_string_matrix({0: a}, N), drho) for a in range(3)])
    eta = np.zeros((3, 3, *lattice.shape))
    deta = np.zeros_like(eta)
    for s in range(1, N):
        R = tuple(int(v) for v in lattice.coords[s])
        for a in range(3):
            for b in range(3):
                op = _string_matrix({s: a, 0: b}, N)
                eta[(a, b) + R] = ev(op, rho) - mu[a] * mu[b]
                deta[(a, b) + R] = ev(op, drho) - dmu[a] * mu[b] - mu[a] * dmu[b]
    return ExactRates(mu, eta, dmu, deta, float(np.ptp(per_site, axis=0).max()))


def symmetric_pair_amplitudes(lattice: Lattice, seed: int = 0, scale: float = 0.05) -> np.ndarray:
    r"""Random pair amplitudes :math:`c_{ab}(R) = \text{scale}\cdot M_{ab}\,w(R)` with the
    lattice's full symmetry: M symmetric, w(R) depending only on the sorted distances
    :math:`\min(|R_i|, L-|R_i|)` (translations, inversion, axis permutations).

    Returns
    -------
    ndarray, shape (3, 3, *lattice.shape)
        For :func:`correlated_product_state`.
    """
    check_lattice(lattice)
    if lattice.coords is None:
        raise ValueError(f"lattice must have site coordinates (a periodic lattice), got "
                         f"{lattice!r}")
    if isinstance(scale, bool) or not isinstance(scale, Real) or not np.isfinite(scale):
        raise ValueError(f"scale must be a real number, got {scale!r}")
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(3, 3))
    M = M + M.T
    shape = np.asarray(lattice.shape)
    weights: dict = {}
    c = np.zeros((3, 3, *lattice.shape))
    for R in np.asarray(lattice.coords)[1:]:
        key = tuple(sorted(np.minimum(R % shape, -R % shape).tolist()))
        weights.setdefault(key, rng.normal())
        c[(slice(None), slice(None), *R)] = scale * weights[key] * M
    return c


@dataclass(frozen=True, kw_only=True)
class MagnetisationTrajectory(_MFTrajectory):
    r"""μ(t) of an evolution from all spins down.

    The record of :class:`ddlib.meanfield.Trajectory` (the same fields, read the same way):
    ``times`` [1/Γ], shape (n_t,); ``mu``, shape (n_t, 3) (exact: the site average of
    :math:`\langle\sigma^a_R\rangle`); ``success`` (the integrator reached the final time
    with finite values and |μ| ≤ 1 + 1e-6; ``converged`` is its read-only alias); ``message``;
    ``model``; ``lattice``; and

    Attributes
    ----------
    mu_sites : ndarray, shape (n_t, N, 3), or None
        :math:`\langle\sigma^a_i\rangle(t)` site by site (:func:`lindblad_evolution`); None
        for a translation-invariant route (:func:`reference_evolution`).
    """

    mu_sites: np.ndarray | None = None


def _times(t_final, n_times) -> np.ndarray:
    if isinstance(t_final, bool) or not isinstance(t_final, Real) \
            or not (np.isfinite(t_final) and t_final > 0):
        raise ValueError(f"t_final must be a positive number, got {t_final!r}")
    if isinstance(n_times, bool) or not isinstance(n_times, Integral) or n_times < 2:
        raise ValueError(f"n_times must be an integer >= 2, got {n_times!r}")
    return np.linspace(0.0, float(t_final), int(n_times))


def _check_tolerances(rtol, atol) -> None:
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, Real) or not tol > 0:
            raise ValueError(f"{name} must be a positive number, got {tol!r}")


#: Largest lattice of the brute-force Pauli reference (it treats each of the N − 1
#: displacements separately: ~9N images of L† built once, then evaluated term by term).
MAX_REFERENCE_SITES = 512


def _check_reference_lattice(lattice) -> None:
    if lattice.kind not in ("chain", "hypercubic") or not all(lattice.periodic):
        raise ValueError(f"lattice must be a periodic chain or hypercubic lattice, got "
                         f"{lattice!r}")
    if lattice.N > MAX_REFERENCE_SITES:
        raise ValueError(f"lattice has {lattice.N} sites: the brute-force reference is meant "
                         f"for small lattices (at most {MAX_REFERENCE_SITES}; use ddlib.mfqf)")


def _check_dense_state(lattice) -> None:
    """Dense 2^N × 2^N complex matrices, a few at a time: refused when they would not fit."""
    fits = int(np.log2(max(available_memory() / 64, 1.0)) / 2)
    check_memory(64.0 * 4.0**lattice.N, param="lattice",
                 what=f"dense density matrices of {lattice!r}",
                 counted="4 complex 2^N x 2^N matrices", largest=f"N = {fits}")


def _trajectory(times, mu, success, why, model, lattice,
                mu_sites=None) -> MagnetisationTrajectory:
    ok = bool(success) and np.isfinite(mu).all() and len(mu) == len(times)
    ok = ok and np.linalg.norm(mu, axis=1).max() <= 1 + 1e-6
    if mu_sites is not None:
        ok = ok and np.isfinite(mu_sites).all() \
            and np.linalg.norm(mu_sites, axis=2).max() <= 1 + 1e-6
    return MagnetisationTrajectory(times=times[:len(mu)], mu=mu, success=ok,
                                   message="ok" if ok else why, model=model, lattice=lattice,
                                   mu_sites=mu_sites)


def lindblad_evolution(model: Model, lattice: Lattice, t_final: float, n_times: int = 101,
                       *, rtol: float = 1e-6, atol: float = 1e-8) -> MagnetisationTrajectory:
    r"""Exact μ(t) from all spins down: :math:`\partial_t\rho = \mathcal L\rho` integrated by
    ``qutip.mesolve`` with :func:`ddlib.model.liouvillian` (4^N × 4^N; N ≲ 9).

    The reference the MFQF, MF and MPO dynamics are compared with on the same finite lattice
    (any lattice of :mod:`ddlib.lattice`: periodic, open chains, cylinders).

    Parameters
    ----------
    model : Model
    lattice : Lattice
    t_final : float
        End time [1/Γ].
    n_times : int
        Output times, ``numpy.linspace(0, t_final, n_times)``.
    rtol, atol : float
        The integrator's tolerances.

    Returns
    -------
    MagnetisationTrajectory
        ``mu_sites`` (n_t, N, 3): :math:`\langle\sigma^a_i\rangle(t)` on each site;
        ``mu`` (n_t, 3): their average over the sites.
    """
    import qutip

    _check_model_lattice(model, lattice)
    times = _times(t_final, n_times)
    _check_tolerances(rtol, atol)
    L = _liouvillian(model, lattice)  # refused here when it would not fit
    N = lattice.N
    e_ops = [qutip.Qobj(_string_matrix({s: a}, N), dims=[[2] * N, [2] * N])
             for s in range(N) for a in range(3)]
    down = qutip.tensor([qutip.basis(2, 1)] * N)
    result = qutip.mesolve(L, down, times, e_ops=e_ops,
                           options={"rtol": rtol, "atol": atol, "progress_bar": False})
    mu_sites = np.real(np.array(result.expect)).T.reshape(len(times), N, 3)
    return _trajectory(times, mu_sites.mean(axis=1), True,
                       "non-finite or unphysical magnetisation", model, lattice, mu_sites)


def reference_evolution(model: Model, lattice: Lattice, t_final: float, n_times: int = 101,
                        *, rtol: float = 1e-7, atol: float = 1e-9) -> MagnetisationTrajectory:
    r"""MFQF μ(t) from all spins down (μ = (0, 0, −1), η = 0), integrating
    :func:`mfqf_rhs_reference` with ``scipy.integrate.solve_ivp`` (DOP853).

    Slow (pure-Python right-hand side): a cross-check of :func:`ddlib.mfqf.evolve` on small
    lattices, not a production solver.
    """
    from scipy.integrate import solve_ivp

    _check_model_lattice(model, lattice)
    _check_reference_lattice(lattice)
    times = _times(t_final, n_times)
    _check_tolerances(rtol, atol)
    shape = (3, 3, *lattice.shape)

    def f(t, y):
        dmu, deta = mfqf_rhs_reference(model, lattice, y[:3], y[3:].reshape(shape))
        return np.concatenate([dmu, deta.ravel()])

    y0 = np.concatenate([[0.0, 0.0, -1.0], np.zeros(int(np.prod(shape)))])
    sol = solve_ivp(f, (0.0, times[-1]), y0, t_eval=times, method="DOP853", rtol=rtol,
                    atol=atol)
    return _trajectory(times, sol.y[:3].T, sol.success, f"solve_ivp: {sol.message}", model,
                       lattice)
