r"""Mean field with quantum fluctuations (MFQF): μ coupled to the connected correlators η_ab(R).

The state of a translation-invariant spin lattice is described by the site magnetisation
:math:`\mu_a = \langle\sigma^a_R\rangle` and the six connected correlators (Eq. 7)

.. math::

    \eta_{ab}(R) = \langle\sigma^a_R\sigma^b_0\rangle - \mu_a\mu_b,\qquad R \neq 0,

on a periodic hypercubic lattice :math:`L^D` (any D ≥ 1). Inversion symmetry gives
:math:`\eta_{ab}(R) = \eta_{ba}(R) = \eta_{ab}(-R)`. Connected three-point correlators are set
to zero (the MFQF closure of App. D).

**Equations (derived here; the printed Eqs. D4–D14 have misprints).** Write the Heisenberg
generator of one site as :math:`\partial_t\sigma^a = \sum_d \Lambda_{ad}\sigma^d - \Gamma
\delta_{az}` with :math:`\Lambda = \Pi - \Gamma\,\mathrm{diag}(\tfrac12, \tfrac12, 1)` and Π
the matrix of Eq. (D5). Let :math:`\mathcal C` be the spin components of the bond term
(:math:`\{x, y\}` for the XY coupling of Eq. 2, :math:`\{z\}` for the Ising coupling of
Eq. B1), :math:`-\frac J2\sum_{\langle R R'\rangle}\sum_{c\in\mathcal C}\sigma^c_R\sigma^c_{R'}`.
Each bond adds :math:`J\sum_{c\in\mathcal C}\epsilon_{cae}\sigma^e_R\sigma^c_{R'}` to
:math:`\partial_t\sigma^a_R`. With

.. math::

    P_{ae} = \sum_{c\in\mathcal C}\epsilon_{cae}\mu_c,\quad
    Q_{ac} = [c\in\mathcal C]\sum_e\epsilon_{cae}\mu_e,\quad
    m_a = \sum_e P_{ae}\mu_e,\quad
    w_a(R) = \sum_{c\in\mathcal C,\,e}\epsilon_{cae}\,\eta_{ec}(R),

the exact magnetisation equation (Eqs. 4–6; :math:`\delta` runs over the :math:`\mathcal Z`
neighbour vectors) is

.. math::

    \partial_t\mu = \Lambda\mu - \Gamma\hat z + J\mathcal Z\,m + J\sum_\delta w(\delta),

and the closed correlator equations are, for R ≠ 0 (η(0) ≡ 0,
:math:`S(R) = \sum_\delta\eta(R+\delta)`, matrices in the indices a, b)

.. math::

    \partial_t\eta(R) = A\eta(R) + \eta(R)A^{\mathsf T} + J\big[QS(R) + S(R)Q^{\mathsf T}\big]
      + \delta_{|R|,1}\Big\{-J\big[P\eta(R) + \eta(R)P^{\mathsf T} + m\mu^{\mathsf T}
      + \mu m^{\mathsf T} + w(R)\mu^{\mathsf T} + \mu w(R)^{\mathsf T}\big] + J\,\epsilon_{abe}
      \mu_e\big([a\in\mathcal C] - [b\in\mathcal C]\big)\Big\},

with :math:`A = \Lambda + J\mathcal Z P`. The bulk part is the linearised mean-field dynamics of
the two spins, coupled through their neighbours; the :math:`\delta_{|R|,1}` terms remove the
three-point strings whose sites coincide (the paper's :math:`\mathcal Z - \delta_{|R|,1}`) and
add their on-site products :math:`\sigma^c\sigma^b = \delta_{cb} + i\epsilon_{cbf}\sigma^f`.
These equations are checked against exact Lindblad dynamics and against the brute-force Pauli
string engine :mod:`ddlib.cumulants` in ``tests/test_mfqf.py``.

**Steady states.** For fixed μ the correlator equations are linear and translation invariant
up to the 1 + 2D sites R = 0, ±e_i. In Fourier space the bulk operator is, per wave vector k, the
Lyapunov map :math:`X \mapsto M_kX + XM_k^{\mathsf T}` with :math:`M_k = A + J\varphi_k Q`,
:math:`\varphi_k = 2\sum_i\cos k_i`; its lattice Green's function, evaluated at a handful of
displacements, turns the defect sites into a small dense linear system (6(1 + D) unknowns).
That leaves a 3-dimensional root problem for μ, solved with MINPACK's hybrid method, and the
full field η(R) follows from one FFT (the k sums cost six scalar sums each, through the
eigen-decomposition of the Lyapunov pencil). The residual of the full equations (numba
kernel) is reported as a check. The slaved η has poles where a bulk correlator mode (a sum
:math:`\alpha_i(k) + \alpha_j(k)` of eigenvalues of :math:`M_k`) crosses zero;
near the end of a stable branch, where the uniform correlator mode softens, the μ problem
therefore has several roots close together. A warm start (a neighbouring state of a sweep)
is followed along its branch rather than handed to the root finder alone, so that a sweep
does not slip onto one of them. Stability and the relaxation rate κ come from the rightmost
eigenvalue of the Jacobian of all of (μ, η) among lattice-symmetric perturbations (ARPACK on
Jacobian-vector products).

**API.** :func:`rhs` (the closed equations), :func:`evolve` (time integration),
:func:`steady_state` (fixed point, κ, stability, λ_ab, Σ_ab) and :func:`continuation` (in Δ,
Ω or J; natural sweeps for hysteresis, pseudo-arclength through the folds and along the
unstable branch). Lattices: periodic ``lattice.hypercubic(L, dim)`` (any dim) or
``lattice.chain(N)``.

>>> from ddlib import Model, lattice, mfqf
>>> s = mfqf.steady_state(Model(Delta=1.5, Omega=0.5, J=1.0), lattice.hypercubic(32, 2))
>>> s.converged, s.stable, round(s.kappa, 3)
(True, True, 0.173)

Units: Γ = 1 unless the model says otherwise; times in 1/Γ, rates in Γ.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass
from numbers import Real
from typing import NamedTuple

import numpy as np
import scipy.integrate
import scipy.optimize
import scipy.sparse.linalg
from tqdm import tqdm

from ._numba import njit
from .lattice import Lattice
from .model import Model, check_model
from .results import SteadySummary

__all__ = ["EvolveOptions", "SteadyOptions", "Evolution", "SteadyState", "Continuation",
           "rhs", "evolve", "steady_state", "continuation"]

#: The six independent components ab of η, in the order of the packed arrays.
PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
_PAIR = np.array([[0, 3, 4], [3, 1, 5], [4, 5, 2]], dtype=np.int64)
_PA = np.array([a for a, _ in PAIRS], dtype=np.int64)
_PB = np.array([b for _, b in PAIRS], dtype=np.int64)
_EPS = np.zeros((3, 3, 3))
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _EPS[_i, _j, _k], _EPS[_j, _i, _k] = 1.0, -1.0
_GAMMA_RATES = np.array([0.5, 0.5, 1.0])  # decay rates of σˣ, σʸ, σᶻ in units of Γ


# --------------------------------------------------------------------------------- options

@dataclass(frozen=True, kw_only=True)
class EvolveOptions:
    """Options of :func:`evolve`.

    Parameters
    ----------
    method : str
        ``scipy.integrate.solve_ivp`` method (explicit: ``"DOP853"``, ``"RK45"``).
    rtol, atol : float
        Integrator tolerances.
    n_times : int
        Number of output times, evenly spaced in [0, t_final] (when ``times`` is not given).
    max_norm : float
        The integration stops, flagged, when :math:`|\\vec\\mu|` exceeds this (a blow-up).
    """

    method: str = "DOP853"
    rtol: float = 1e-8
    atol: float = 1e-10
    n_times: int = 201
    max_norm: float = 1.0 + 1e-6

    def __post_init__(self):
        for name in ("rtol", "atol", "max_norm"):
            _positive(name, getattr(self, name))
        if isinstance(self.n_times, bool) or not isinstance(self.n_times, int) \
                or self.n_times < 2:
            raise ValueError(f"n_times must be an integer >= 2, got {self.n_times!r}")


@dataclass(frozen=True, kw_only=True)
class SteadyOptions:
    """Options of :func:`steady_state`.

    Parameters
    ----------
    t_pre : float
        Without a warm start, the state is first evolved from ``initial`` for this time (on a
        lattice of at most ``pre_sites`` sites, same D) to pick the branch reached dynamically.
    pre_sites : int
        Size limit of that pre-integration lattice.
    tol : float
        Tolerance of the root finder on μ.
    residual_tol : float
        The steady state is converged when the full right-hand side (all of μ and η) is below
        this in max norm.
    kappa : bool
        Compute the relaxation rate κ and the stability (ARPACK, the costly part at large N).
    eigs_tol : float
        ARPACK tolerance.
    require_stable : bool
        Accept only a *stable* fixed point (κ > 0), as a caller following a stable branch
        needs: past a fold, a warm-started root search can converge to the unstable fixed
        point next to it. When the root found is unstable, the state is relaxed in time from
        the start state instead (as a slow physical sweep does) and the search retried; if
        that still gives no stable fixed point (or κ did not converge), the result has
        ``converged=False`` and says why in ``message``. Needs ``kappa=True``.
        :func:`continuation` with ``method="natural"`` sets it whenever κ is computed.
    """

    t_pre: float = 40.0
    pre_sites: int = 2048
    tol: float = 1e-12
    residual_tol: float = 1e-8
    kappa: bool = True
    eigs_tol: float = 1e-7
    require_stable: bool = False

    def __post_init__(self):
        for name in ("t_pre", "tol", "eigs_tol"):
            _positive(name, getattr(self, name))
        if not (isinstance(self.residual_tol, Real) and self.residual_tol >= 0):
            raise ValueError(f"residual_tol must be >= 0, got {self.residual_tol!r}")
        if isinstance(self.pre_sites, bool) or not isinstance(self.pre_sites, int) \
                or self.pre_sites < 3:
            raise ValueError(f"pre_sites must be an integer >= 3, got {self.pre_sites!r}")
        if self.require_stable and not self.kappa:
            raise ValueError("require_stable=True needs kappa=True (stability comes from the "
                             "Jacobian's leading eigenvalue)")


# --------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Evolution:
    """Result of :func:`evolve`.

    Attributes
    ----------
    times : ndarray, shape (n_t,)
        Output times (1/Γ); ends early when the integration failed.
    mu : ndarray, shape (n_t, 3)
        :math:`\\vec\\mu(t)`.
    eta_nn : ndarray, shape (n_t, 3, 3)
        Nearest-neighbour correlator :math:`\\eta_{ab}(\\hat e_1, t)`.
    eta : ndarray, shape (3, 3, *lattice.shape)
        Final correlators, layout as in :class:`SteadyState`.
    converged : bool
        The integration reached ``t_final`` with finite values and :math:`|\\vec\\mu| \\le 1`.
    message : str
    """

    times: np.ndarray
    mu: np.ndarray
    eta_nn: np.ndarray
    eta: np.ndarray
    converged: bool
    message: str
    model: Model
    lattice: Lattice


@dataclass(frozen=True)
class SteadyState:
    """Result of :func:`steady_state`.

    Attributes
    ----------
    mu : ndarray, shape (3,)
        :math:`\\vec\\mu^S`.
    eta : ndarray, shape (3, 3, *lattice.shape)
        ``eta[a, b][R]`` = :math:`\\eta_{ab}(R)` at the displacement R whose components are the
        array indices taken mod L (index L − 1 is R = −1). Symmetric in a, b;
        ``eta[:, :, 0, ..., 0] = 0`` (R = 0 is not a correlator).
    converged : bool
    residual : float
        Max norm of the full right-hand side (μ and every η_ab(R)) at the returned state.
    kappa : float
        Asymptotic relaxation rate: minus the real part of the rightmost eigenvalue of the
        Jacobian of the MFQF equations (μ and η) at the fixed point, among the perturbations
        with the lattice's symmetry (those a translation-invariant evolution can contain;
        NaN if not computed).
    kappa_imag : float
        Imaginary part of that eigenvalue (a non-zero value means oscillating relaxation).
    stable : bool or None
        ``kappa > 0`` (None when κ was not computed).
    physical : bool
        The state is a possible one: :math:`|\\vec\\mu| \\le 1` and every
        :math:`|\\langle\\sigma^a_R\\sigma^b_0\\rangle| = |\\eta_{ab}(R) + \\mu_a\\mu_b| \\le 1`
        (to 1e-9). The MFQF closure does not enforce this: a fixed point of the closed
        equations with correlators beyond 1 keeps ``converged=True`` (it *is* a fixed point of
        MFQF) but has ``physical=False`` and says so in ``message``; one with
        :math:`|\\vec\\mu| > 1` has ``converged=False`` as well.
    correlation_length : ndarray, shape (3, 3)
        :math:`\\lambda_{ab}` of a fit :math:`|\\eta_{ab}(R\\hat e_1)| \\sim e^{-\\lambda_{ab}R}`
        over :math:`1 \\le R \\le L/4` (an inverse length, as in Fig. 2b; NaN where η_ab ≡ 0).
    total_correlation : ndarray, shape (3, 3)
        :math:`\\Sigma_{ab} = \\sum_{R\\neq0}\\eta_{ab}(R)`.
    message : str
    """

    mu: np.ndarray
    eta: np.ndarray
    converged: bool
    residual: float
    kappa: float
    kappa_imag: float
    stable: bool | None
    physical: bool
    correlation_length: np.ndarray
    total_correlation: np.ndarray
    message: str
    model: Model
    lattice: Lattice

    def summary(self) -> SteadySummary:
        """The portable summary of this state (:mod:`ddlib.results`), accepted as a warm start."""
        return SteadySummary(model=self.model, mu=tuple(map(float, self.mu)),
                             converged=bool(self.converged), message=self.message,
                             stable=self.stable, kappa=float(self.kappa), solver="mfqf",
                             sigma=self.total_correlation, lam=self.correlation_length,
                             lattice=self.lattice.key())


@dataclass(frozen=True)
class Continuation:
    """Result of :func:`continuation`.

    Attributes
    ----------
    param : str
        ``"Delta"`` or ``"Omega"``.
    values : ndarray, shape (n,)
        Parameter values of the points, in the order they were reached.
    points : tuple of SteadyState
    mu : ndarray, shape (n, 3)
    stable : ndarray of object, shape (n,)
        True, False or None (κ not computed).
    converged : bool
        Every point converged.
    message : str
    """

    param: str
    values: np.ndarray
    points: tuple
    mu: np.ndarray
    stable: np.ndarray
    converged: bool
    message: str


# --------------------------------------------------------------------------------- geometry

@dataclass(frozen=True, eq=False)
class _Geometry:
    shape: tuple
    dim: int
    N: int
    Z: int
    nbr: np.ndarray  # (N, Z) flat indices of the neighbours of each site
    nn: np.ndarray   # (2 dim,) flat indices of +e_i, -e_i
    inv: np.ndarray  # (N,) flat index of -R
    rep: np.ndarray  # (n_orbits,) a site of each orbit of the point group (R_i → ±R_i, axes
    orbit: np.ndarray  # permuted); (N,) the orbit of each site
    nn_weight: int = 1  # sites per entry of nn (2D on the orbit geometry, _orbit_tables)


def _geometry(lattice) -> _Geometry:
    """Neighbour tables, inversion and point-group orbits of a periodic L^D lattice."""
    if not isinstance(lattice, Lattice):
        raise ValueError(f"lattice must be a ddlib.lattice.Lattice, got {lattice!r}")
    return _geometry_of(lattice)


@functools.lru_cache(maxsize=8)
def _geometry_of(lattice: Lattice) -> _Geometry:
    if lattice.kind not in ("hypercubic", "chain") or not all(lattice.periodic):
        raise ValueError("lattice must be a periodic hypercubic(L, dim) or chain(N) "
                         f"(translation invariance), got {lattice!r}")
    shape = tuple(int(n) for n in lattice.shape)
    dim = len(shape)
    idx = np.arange(math.prod(shape)).reshape(shape)
    nbr = np.stack([np.roll(idx, s, axis=i).ravel() for i in range(dim) for s in (-1, 1)],
                   axis=1)
    coords = np.indices(shape).reshape(dim, -1)
    inv = np.ravel_multi_index(tuple((-coords) % np.array(shape)[:, None]), shape)
    nn = np.array([np.ravel_multi_index(tuple(s * np.eye(dim, dtype=int)[i] % shape), shape)
                   for i in range(dim) for s in (1, -1)], dtype=np.int64)
    folded = np.sort(np.minimum(coords, np.array(shape)[:, None] - coords), axis=0)
    _, rep, orbit = np.unique(folded, axis=1, return_index=True, return_inverse=True)
    return _Geometry(shape, dim, idx.size, 2 * dim, np.ascontiguousarray(nbr, dtype=np.int64),
                     nn, inv.astype(np.int64), rep, orbit.ravel())


class _Const(NamedTuple):
    """μ-independent coefficients of a model (see the module docstring for the symbols)."""

    Lam: np.ndarray   # Λ = Π − Γ diag(½, ½, 1), (3, 3)
    J: float
    Gamma: float
    TP: np.ndarray    # P = TP @ μ, (3, 3, 3)
    TQ: np.ndarray    # Q = TQ @ μ, (3, 3, 3)
    W: np.ndarray     # w = W @ packed η, (3, 6)
    TC: np.ndarray    # packed ε_abe μ_e ([a∈C] − [b∈C]) = TC @ μ, (6, 3)


def _constants(model: Model) -> _Const:
    """The μ-independent coefficients of ``model``."""
    check_model(model)
    Pi = np.array([[0.0, -model.Delta, 0.0], [model.Delta, 0.0, -2 * model.Omega],
                   [0.0, 2 * model.Omega, 0.0]])
    Lam = Pi - model.Gamma * np.diag(_GAMMA_RATES)
    cm = np.array([1.0, 1.0, 0.0]) if model.coupling == "xy" else np.array([0.0, 0.0, 1.0])
    TP = np.einsum("cae,c->aec", _EPS, cm)  # P_ae = Σ_c [c∈C] ε_cae μ_c
    TQ = np.einsum("cae,c->ace", _EPS, cm)  # Q_ac = [c∈C] Σ_e ε_cae μ_e
    W = np.zeros((3, 6))
    for a, c, e in itertools.product(range(3), repeat=3):
        W[a, _PAIR[e, c]] += cm[c] * _EPS[c, a, e]
    TC = np.array([_EPS[a, b] * (cm[a] - cm[b]) for a, b in PAIRS])
    return _Const(Lam, model.J, model.Gamma, TP, TQ, W, TC)


# --------------------------------------------------------------------------------- kernel

@njit
def _rhs_kernel(mu, x, nbr, nn, inv, A, Q, P, W, src, J, dx):  # pragma: no cover - numba
    """Correlator right-hand side of the closed MFQF equations (module docstring).

    mu (3,); x (6, N) packed η with x[:, 0] ≡ 0; A, Q, P (3, 3) and W (3, 6) (w = W x) at
    this μ; src (6,) the packed η-independent source of the nearest neighbours. Writes dx.
    """
    N = x.shape[1]
    Z = nbr.shape[1]
    pa = _PA
    pb = _PB
    X = np.zeros((3, 3))
    w = np.zeros(3)
    wi = np.zeros(3)
    a00, a01, a02, a10, a11, a12, a20, a21, a22 = A.ravel()
    q00, q01, q02, q10, q11, q12, q20, q21, q22 = (J * Q).ravel()
    for p in range(6):
        dx[p, 0] = 0.0
    for n in range(1, N):
        x0, x1, x2, x3, x4, x5 = x[0, n], x[1, n], x[2, n], x[3, n], x[4, n], x[5, n]
        s0 = s1 = s2 = s3 = s4 = s5 = 0.0
        for z in range(Z):  # x[:, 0] = 0: the R = 0 "correlator" drops out
            j = nbr[n, z]
            s0 += x[0, j]
            s1 += x[1, j]
            s2 += x[2, j]
            s3 += x[3, j]
            s4 += x[4, j]
            s5 += x[5, j]
        # AX + XAᵀ + J(QS + SQᵀ) = Y + Yᵀ with Y = AX + JQS; X = [[x0 x3 x4] [x3 x1 x5]
        # [x4 x5 x2]], S likewise
        y00 = a00 * x0 + a01 * x3 + a02 * x4 + q00 * s0 + q01 * s3 + q02 * s4
        y01 = a00 * x3 + a01 * x1 + a02 * x5 + q00 * s3 + q01 * s1 + q02 * s5
        y02 = a00 * x4 + a01 * x5 + a02 * x2 + q00 * s4 + q01 * s5 + q02 * s2
        y10 = a10 * x0 + a11 * x3 + a12 * x4 + q10 * s0 + q11 * s3 + q12 * s4
        y11 = a10 * x3 + a11 * x1 + a12 * x5 + q10 * s3 + q11 * s1 + q12 * s5
        y12 = a10 * x4 + a11 * x5 + a12 * x2 + q10 * s4 + q11 * s5 + q12 * s2
        y20 = a20 * x0 + a21 * x3 + a22 * x4 + q20 * s0 + q21 * s3 + q22 * s4
        y21 = a20 * x3 + a21 * x1 + a22 * x5 + q20 * s3 + q21 * s1 + q22 * s5
        y22 = a20 * x4 + a21 * x5 + a22 * x2 + q20 * s4 + q21 * s5 + q22 * s2
        dx[0, n] = 2 * y00
        dx[1, n] = 2 * y11
        dx[2, n] = 2 * y22
        dx[3, n] = y01 + y10
        dx[4, n] = y02 + y20
        dx[5, n] = y12 + y21
    # nearest neighbours R = ±e_i: three-point strings with coinciding sites
    for k in range(nn.shape[0]):
        n = nn[k]
        for q in range(6):
            X[pa[q], pb[q]] = x[q, n]
            X[pb[q], pa[q]] = x[q, n]
        for a in range(3):
            w[a] = 0.0
            wi[a] = 0.0
            for q in range(6):
                w[a] += W[a, q] * x[q, n]
                wi[a] += W[a, q] * x[q, inv[n]]
        for p in range(6):
            a = pa[p]
            b = pb[p]
            v = w[a] * mu[b] + mu[a] * wi[b]
            for d in range(3):
                v += P[a, d] * X[d, b] + P[b, d] * X[a, d]
            dx[p, n] += src[p] - J * v


def _coefficients(mu, const: _Const, Z: int):
    """Everything of the right-hand side that depends on μ only.

    Returns A, Q, P (3, 3), the packed nearest-neighbour source (6,) and the η-independent
    part of ∂_t μ (3,).
    """
    P = const.TP @ mu
    Q = const.TQ @ mu
    m = P @ mu
    A = const.Lam + const.J * Z * P
    src = const.J * (const.TC @ mu - m[_PA] * mu[_PB] - mu[_PA] * m[_PB])
    dmu0 = const.Lam @ mu + const.J * Z * m
    dmu0[2] -= const.Gamma
    return A, Q, P, src, dmu0


def _pack(eta: np.ndarray) -> np.ndarray:
    """(3, 3, *shape) → packed (6, N)."""
    return np.ascontiguousarray(eta[_PA, _PB].reshape(6, -1))


def _unpack(x: np.ndarray, shape: tuple) -> np.ndarray:
    """Packed (6, N) → (3, 3, *shape), symmetric in a, b."""
    return x[_PAIR].reshape((3, 3, *shape))


def _rhs_flat(y, geo: _Geometry, const):
    """∂_t of the flat state y = (μ, packed η) (length 3 + 6N)."""
    mu = y[:3]
    x = y[3:].reshape(6, geo.N)
    A, Q, P, src, dmu0 = _coefficients(mu, const, geo.Z)
    dy = np.empty_like(y)
    _rhs_kernel(mu, x, geo.nbr, geo.nn, geo.inv, A, Q, P, const.W, src, const.J,
                dy[3:].reshape(6, geo.N))
    dy[:3] = dmu0 + const.J * geo.nn_weight * (const.W @ x[:, geo.nn].sum(axis=1))
    return dy


def rhs(model: Model, lattice: Lattice, mu, eta):
    r"""Time derivatives of the closed MFQF equations (module docstring; Eqs. 4–6, D4–D6).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    mu : array_like, shape (3,)
    eta : array_like, shape (3, 3, *lattice.shape)
        ``eta[a, b][R]`` = η_ab(R), R by index mod L; must be symmetric in a, b (the packed
        components a ≤ b are used) and inversion symmetric; ``eta[..., 0, ..., 0]`` is ignored.

    Returns
    -------
    dmu : ndarray, shape (3,)
    deta : ndarray, shape (3, 3, *lattice.shape)
        With ``deta[:, :, 0, ..., 0] = 0``.
    """
    geo = _geometry(lattice)
    const = _constants(model)
    mu, eta = _check_state(mu, eta, geo)
    x = _pack(eta)
    x[:, 0] = 0.0
    dy = _rhs_flat(np.concatenate([mu, x.ravel()]), geo, const)
    return dy[:3], _unpack(dy[3:].reshape(6, geo.N), geo.shape)


def _check_state(mu, eta, geo: _Geometry):
    mu = np.asarray(mu, dtype=float)
    if mu.shape != (3,) or not np.all(np.isfinite(mu)):
        raise ValueError(f"mu must be a finite array of shape (3,), got {mu!r}")
    eta = np.asarray(eta, dtype=float)
    if eta.shape != (3, 3, *geo.shape):
        raise ValueError(f"eta must have shape {(3, 3, *geo.shape)}, got {eta.shape}")
    if not np.all(np.isfinite(eta)):
        raise ValueError("eta must be finite")
    return mu, eta


def _initial_state(initial, geo: _Geometry):
    """(mu, packed x) from None (all spins down), a result, or a (mu, eta) pair."""
    if initial is None:
        return np.array([0.0, 0.0, -1.0]), np.zeros((6, geo.N))
    mu = _initial_mu(initial)
    eta = initial[1] if isinstance(initial, tuple) else getattr(initial, "eta", None)
    mu, eta = _check_state(mu, eta, geo)
    x = _pack(eta)
    x[:, 0] = 0.0
    return mu, x


def _positive(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------- evolve

def evolve(model: Model, lattice: Lattice, t_final: float, initial=None, *, times=None,
           options: EvolveOptions = EvolveOptions()) -> Evolution:
    r"""Integrate the MFQF equations (module docstring) in time.

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    t_final : float
        Final time (1/Γ).
    initial : None, (mu, eta) or a result
        Start state; default all spins down, μ = (0, 0, −1), η = 0. A result of
        :func:`evolve` (its last state) or :func:`steady_state` on the same lattice continues
        from it.
    times : array_like, optional
        Output times in [0, t_final]; default ``options.n_times`` evenly spaced.
    options : EvolveOptions

    Returns
    -------
    Evolution
        ``converged`` is False (with the reason in ``message``) when the integrator failed,
        a value became non-finite or :math:`|\vec\mu|` exceeded ``options.max_norm``.
    """
    geo = _geometry(lattice)
    const = _constants(model)
    t_final = _positive("t_final", t_final)
    if times is None:
        times = np.linspace(0.0, t_final, options.n_times)
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size < 1 or times.min() < 0 or times.max() > t_final \
            or np.any(np.diff(times) <= 0):
        raise ValueError("times must be increasing and within [0, t_final]")
    mu0, x0 = _initial_state(initial, geo)
    y0 = np.concatenate([mu0, x0.ravel()])

    def fun(t, y):
        return _rhs_flat(y, geo, const)

    def blowup(t, y):
        v = float(np.sqrt(y[0] ** 2 + y[1] ** 2 + y[2] ** 2))
        return options.max_norm - v if math.isfinite(v) else -1.0

    blowup.terminal = True
    with np.errstate(all="ignore"):
        sol = scipy.integrate.solve_ivp(fun, (0.0, t_final), y0, method=options.method,
                                        t_eval=times, rtol=options.rtol, atol=options.atol,
                                        events=blowup)
    ys = sol.y.T
    ok = np.all(np.isfinite(ys), axis=1)
    ys, ts = ys[ok], sol.t[ok]
    if sol.status == 1 or sol.t_events[0].size:
        message = (f"blow-up: |mu| exceeded {options.max_norm} at t = "
                   f"{sol.t_events[0][0]:.6g}" if sol.t_events[0].size else "blow-up")
        converged = False
    elif sol.status != 0 or not ok.all():
        converged, message = False, f"integration failed: {sol.message}"
    else:
        converged, message = True, "reached t_final"
    last = ys[-1] if len(ys) else y0
    xs = ys[:, 3:].reshape(len(ys), 6, geo.N)
    eta_nn = xs[:, :, geo.nn[0]][:, _PAIR] if len(ys) else np.zeros((0, 3, 3))
    return Evolution(ts, ys[:, :3].copy(), eta_nn,
                     _unpack(last[3:].reshape(6, geo.N), geo.shape), converged, message,
                     model, lattice)


# --------------------------------------------------------------------------------- steady state

def _lyapunov(M: np.ndarray) -> np.ndarray:
    """6×6 matrix of the map X ↦ MX + XMᵀ on packed symmetric 3×3 matrices."""
    K = np.empty((6, 6))
    for q, (a, b) in enumerate(PAIRS):
        E = np.zeros((3, 3))
        E[a, b] = E[b, a] = 1.0
        Y = M @ E + E @ M.T
        K[:, q] = Y[_PA, _PB]
    return K


@dataclass(frozen=True, eq=False)
class _Fourier:
    """Wave vectors of the lattice: on the reflection-reduced half grid k_i ∈ [0, π], φ_k and
    the weights of the Green's functions at the few displacements the defect problem needs;
    φ_k on the full FFT grid."""

    phi_half: np.ndarray   # (nk,) φ_k = 2 Σ cos k_i on the half grid
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
        return _Fourier(2 * np.cos(ks).sum(axis=0),
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

    Cop = -J * _lyapunov(P)
    for p, (a, b) in enumerate(PAIRS):
        Cop[p] -= J * (W[a] * mu[b] + mu[a] * W[b])
    n = 6 * (1 + dim)
    M = np.zeros((n, n))
    rhs_vec = np.zeros(n)
    M[:6, :6] = G0
    for i in range(dim):
        M[:6, 6 * (i + 1):6 * (i + 2)] = 2 * G1[i]
    for j in range(dim):
        rows = slice(6 * (j + 1), 6 * (j + 2))
        M[rows] = Cop @ np.hstack([G1[j]] + [pair(i, j) for i in range(dim)])
        M[rows, rows] += np.eye(6)
        rhs_vec[rows] = -src
    try:
        h = np.linalg.solve(M, rhs_vec).reshape(1 + dim, 6)
    except np.linalg.LinAlgError:
        return np.full(3, np.nan), None
    x_nn = [G1[j] @ h[0] + sum(pair(i, j) @ h[1 + i] for i in range(dim)) for j in range(dim)]
    dmu = dmu0 + 2 * J * W @ np.sum(x_nn, axis=0)
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


@functools.lru_cache(maxsize=8)
def _orbit_tables(geo: _Geometry) -> _Geometry:
    """The lattice-symmetric sector as a geometry of its own: one "site" per orbit (the
    origin's orbit is index 0, as the kernel expects), each neighbour table entry the orbit of
    that neighbour, inversion the identity (orbits are closed under R → −R). The nearest
    neighbours ±e_i all lie in one orbit: ``nn`` lists it once and ``nn_weight`` = 2D
    restores their count in ∂_t μ. :func:`_rhs_flat` on it gives, per orbit, the right-hand
    side at any site of the orbit of a symmetric state."""
    n_orb = geo.rep.size
    assert geo.orbit[0] == 0
    nbr = np.ascontiguousarray(geo.orbit[geo.nbr[geo.rep]], dtype=np.int64)
    nn = np.unique(geo.orbit[geo.nn]).astype(np.int64)
    return _Geometry((n_orb,), geo.dim, n_orb, geo.Z, nbr, nn,
                     np.arange(n_orb, dtype=np.int64), np.arange(n_orb), np.arange(n_orb),
                     nn_weight=geo.nn.size // nn.size)


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


def _correlation_length(x: np.ndarray, geo: _Geometry) -> np.ndarray:
    """λ_ab from a least-squares fit of log|η_ab(r ê_1)| over 1 ≤ r ≤ max(2, L/4)."""
    L = geo.shape[0]
    r = np.arange(1, max(2, L // 4) + 1)
    idx = np.ravel_multi_index(
        tuple(np.stack([r] + [np.zeros_like(r)] * (geo.dim - 1))), geo.shape)
    lam = np.full(6, np.nan)
    for p in range(6):
        v = np.abs(x[p, idx])
        ok = v > max(1e-13 * v.max(), 1e-300)
        if ok.sum() >= 2:
            lam[p] = -np.polyfit(r[ok], np.log(v[ok]), 1)[0]
    return lam[_PAIR]


def _fixed_point(geo, const, fk, mu_start, options: SteadyOptions):
    """Root of the reduced μ problem from mu_start, then the full state and its checks."""
    sol = _root(lambda m: _reduced(m, const, geo, fk)[0], mu_start, options.tol)
    return _checked(sol.x, sol.success, sol.message, geo, const, fk, options)


def _root(f, x0, tol):
    """MINPACK hybrid root of f from x0 (floating-point warnings of trial points silenced)."""
    with np.errstate(all="ignore"):
        return scipy.optimize.root(f, x0, method="hybr", options={"xtol": tol})


def _jacobian(f, x, fx, h=1e-7):
    """Forward-difference Jacobian of f at x (f(x) = fx given)."""
    return np.column_stack([(f(x + h * e) - fx) / h for e in np.eye(x.size)])


def _bulk_growth(mu, const, geo: _Geometry, fk: _Fourier) -> float:
    r"""Largest growth rate of the bulk correlator modes at μ (η dynamics with μ frozen, far
    from the defect sites): :math:`\max_k 2\,\mathrm{Re}\,\alpha(A + J\varphi_k Q)`, the
    rightmost eigenvalue of the Lyapunov maps :math:`X \mapsto M_kX + XM_k^{\mathsf T}`.
    Positive where a correlator mode is unstable; where it crosses zero the slaved η of
    :func:`_reduced` has a pole."""
    A, Q, *_ = _coefficients(mu, const, geo.Z)
    t = np.unique(const.J * fk.phi_half)
    return 2.0 * float(np.linalg.eigvals(A[None] + t[:, None, None] * Q[None]).real.max())


def _follow(geo, fk, start: SteadyState, model: Model, options: SteadyOptions):
    r"""Follow the branch of fixed points through a warm start to ``model``.

    The reduced root problem :math:`F(\vec\mu, s) = \partial_t\vec\mu = 0` is tracked along
    the straight homotopy :math:`p(s) = (1 - s)\,p_{\rm start} + s\,p` of the model
    parameters (Δ, Ω, J, Γ), s: 0 → 1, by natural-parameter continuation: tangent predictor
    :math:`\dot\mu = -(\partial_\mu F)^{-1}\partial_s F`, MINPACK corrector, step doubled on
    success and halved on failure. A corrected point is accepted only close to its predictor
    and with the sign of :math:`\det\partial_\mu F` unchanged: at a saddle-node fold that sign
    flips between the two branches, so the path cannot slip onto the unstable branch next to
    a fold (or jump to a far-away root) as a plain warm-started root search can. Nor may the
    sign of the bulk correlator growth rate (:func:`_bulk_growth`) change: next to a fold the
    reduced problem also has roots whose slaved correlators are unstable (it has poles where
    that rate crosses zero), and a branch whose correlators turn unstable ends there.

    Returns (mu, success, why): ``success`` False when the branch ends (a fold) before s = 1
    or the root search fails; ``why`` says where.
    """
    names = ("Delta", "Omega", "J", "Gamma")
    p0 = np.array([getattr(start.model, k) for k in names])
    p1 = np.array([getattr(model, k) for k in names])

    def const_at(s):
        return _constants(model.replace(**dict(zip(names, (1 - s) * p0 + s * p1,
                                                   strict=True))))

    def F(mu, s):
        return _reduced(mu, const_at(s), geo, fk)[0]

    def kind(mu, s, Jac):  # what may not change along a branch
        return np.sign(np.linalg.det(Jac)), _bulk_growth(mu, const_at(s), geo, fk) < 0

    sol = _root(lambda m: F(m, 0.0), np.asarray(start.mu, dtype=float), options.tol)
    if not sol.success:
        return sol.x, False, f"no fixed point next to the warm start ({sol.message})"
    mu, s, h = sol.x, 0.0, 1.0
    Fmu = F(mu, s)
    Jac = _jacobian(lambda m: F(m, s), mu, Fmu)
    branch = kind(mu, s, Jac)
    while s < 1.0:
        h = min(h, 1.0 - s)
        t = 1.0 if s + h >= 1.0 - 1e-12 else s + h
        with np.errstate(all="ignore"):
            tangent = -np.linalg.lstsq(Jac, (F(mu, s + 1e-7) - Fmu) / 1e-7, rcond=None)[0]
        pred = mu + (t - s) * tangent
        sol = _root(lambda m, t=t: F(m, t), pred, options.tol)
        ok = sol.success and np.all(np.isfinite(sol.x)) and \
            np.linalg.norm(sol.x - pred) <= 0.5 * np.linalg.norm(pred - mu) + 1e-9
        if ok:
            F_new = F(sol.x, t)
            Jac_new = _jacobian(lambda m, t=t: F(m, t), sol.x, F_new)
            ok = kind(sol.x, t, Jac_new) == branch
        if ok:
            mu, s, Fmu, Jac, h = sol.x, t, F_new, Jac_new, 2 * h
        else:
            h /= 2
            if h < 1e-6:
                here = dict(zip(names, (1 - s) * p0 + s * p1, strict=True))
                return mu, False, ("the branch of the warm start ends (a fold) near Delta = "
                                   f"{here['Delta']:.6g}, Omega = {here['Omega']:.6g}, "
                                   f"J = {here['J']:.6g}")
    return mu, True, "followed the warm start's branch"


def _checked(mu, success, why, geo, const, fk, options):
    """(mu, x, residual, problem) at a root candidate mu; problem is "" when all is well."""
    with np.errstate(all="ignore"):
        _, x = _reduced(mu, const, geo, fk, full=True)
    if x is None or not np.all(np.isfinite(mu)) or not np.all(np.isfinite(x)):
        return mu, np.zeros((6, geo.N)), np.inf, f"no fixed point found ({why})"
    residual = float(np.abs(_rhs_flat(np.concatenate([mu, x.ravel()]), geo, const)).max())
    if not success:
        return mu, x, residual, f"root finder failed: {why}"
    if np.linalg.norm(mu) > 1 + 1e-9:
        return mu, x, residual, (f"unphysical fixed point |mu| = {np.linalg.norm(mu):.6g} > 1 "
                                 "(physical=False)")
    if residual > options.residual_tol:
        return mu, x, residual, f"residual {residual:.3g} > residual_tol"
    return mu, x, residual, ""


def _physicality(mu, x) -> tuple[bool, str]:
    """(physical, note): |μ| ≤ 1 and every |⟨σ^a_R σ^b_0⟩| = |η_ab(R) + μ_a μ_b| ≤ 1 (to 1e-9);
    the note names the largest violation ("" when physical)."""
    norm = float(np.linalg.norm(mu))
    with np.errstate(all="ignore"):
        theta = np.abs(x + np.array([mu[a] * mu[b] for a, b in PAIRS])[:, None])[:, 1:]
    big = float(theta.max(initial=0.0))
    if not (np.isfinite(norm) and np.isfinite(big)):
        return False, "; unphysical (physical=False): non-finite state"
    if norm > 1 + 1e-9:
        return False, f"; unphysical (physical=False): |mu| = {norm:.6g} > 1"
    if big > 1 + 1e-9:
        return False, (f"; unphysical (physical=False): max |<sigma sigma>| = {big:.3g} > 1, "
                       "the MFQF closure is outside its physical range")
    return True, ""


def steady_state(model: Model, lattice: Lattice, initial=None, *,
                 options: SteadyOptions = SteadyOptions()) -> SteadyState:
    r"""MFQF steady state: ∂_t μ = 0 and ∂_t η_ab(R) = 0 for all R ≠ 0.

    The route (module docstring): η is slaved to μ by one lattice Green's-function solve, so
    the fixed point is a 3-dimensional root problem in μ (MINPACK ``hybr``); the residual of the
    full equations is then evaluated with the numba kernel. Far faster than time integration,
    also next to a saddle-node edge where relaxation is critically slow, and it finds unstable
    fixed points as well (reported with ``stable=False``).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    initial : None, (mu, eta), Evolution, SteadyState or a record with ``.mu`` and ``.model``
        A :class:`SteadyState` (or a slim record of one with its ``mu`` and ``model``, as a
        sweep may keep) is a warm start: the branch of fixed points through it is
        followed from its parameters to ``model``'s (on ``lattice``, any warm-start size;
        :func:`_follow`), which keeps to that branch next to a fold, where a plain root search
        may slip onto the unstable branch. Where the branch ends before (a fold), a plain root
        search from its μ is made. If that finds no root (or, with
        ``options.require_stable``, only an unstable one), the state is relaxed from the warm
        start's (μ, η) as below, on ``lattice`` itself when the warm start is of the same size.
        Otherwise the state is first evolved for ``options.t_pre`` from ``initial``'s μ (the
        last one of an Evolution) and its η if that fits the pre-integration lattice, else η = 0
        (default all spins down, μ = (0, 0, −1)), on a lattice of at most
        ``options.pre_sites`` sites, which selects the branch reached dynamically; if the root
        search fails from there or finds an unstable fixed point (κ < 0; without κ: one whose
        bulk correlator modes grow), the evolution is continued for ``10 * t_pre`` and the
        search retried.
    options : SteadyOptions

    Returns
    -------
    SteadyState
        ``converged`` is False, with the reason in ``message``, when no root was found, the
        full residual exceeds ``options.residual_tol`` or :math:`|\vec\mu| > 1`, or (with
        ``options.require_stable``) only an unstable fixed point was found.
    """
    result = _steady_state(model, lattice, initial, options)
    if options.require_stable and result.converged and result.stable is not True:
        why = ("its stability is unknown (kappa did not converge)" if result.stable is None
               else f"it is unstable (kappa = {result.kappa:.3g})")
        result = dataclasses.replace(
            result, converged=False, message="require_stable: no stable fixed point found, "
                                             f"the fixed point reached {why}")
    return result


def _is_warm(initial) -> bool:
    """A warm start: a SteadyState, or any record of one with ``.mu`` and ``.model`` (e.g. the
    slim form a sweep keeps)."""
    return isinstance(initial, SteadyState) or (
        not isinstance(initial, (tuple, Evolution)) and hasattr(initial, "mu")
        and isinstance(getattr(initial, "model", None), Model))


def _steady_state(model, lattice, initial, options: SteadyOptions) -> SteadyState:
    """:func:`steady_state` without the final require_stable verdict."""
    geo = _geometry(lattice)
    const = _constants(model)
    fk = _Fourier.of(geo)
    if _is_warm(initial):
        if initial.model.coupling == model.coupling:
            mu, success, why = _follow(geo, fk, initial, model, options)
            found = _checked(mu, success, why, geo, const, fk, options)
        else:
            found = (None, None, None, "no branch to follow across couplings")
        if found[3]:  # no branch to follow to here: a plain root search from the warm start
            found = _fixed_point(geo, const, fk, np.asarray(initial.mu, dtype=float), options)
        result = _result(model, lattice, geo, const, *found, options)
        rooted = result.residual <= options.residual_tol  # a root, if maybe a flagged one
        if rooted and (not options.require_stable or result.stable):
            return result
        # relax in time from the warm start instead (no root found from it, or only an
        # unstable one where a stable one is required): on this very lattice when the warm
        # start is of it (a smaller one may have its fold elsewhere and relax to the other branch)
        initial = (initial.mu, getattr(initial, "eta", None))
        L_pre = geo.shape[0] if np.shape(initial[1]) == (3, 3, *geo.shape) else None
    else:
        L_pre = None
    mu0 = _initial_mu(initial)
    L_pre = L_pre or max(3, min(geo.shape[0], int(round(options.pre_sites ** (1 / geo.dim)))))
    pre_lattice = lattice if L_pre == geo.shape[0] else _same_kind(lattice, L_pre)
    pre_shape = (3, 3, *_geometry(pre_lattice).shape)
    eta0 = initial[1] if isinstance(initial, tuple) else getattr(initial, "eta", None)
    pre = (mu0, eta0 if np.shape(eta0) == pre_shape else np.zeros(pre_shape))
    # slow relaxation: if the root search fails, or lands on an unstable fixed point next to
    # the one the dynamics is heading for, evolve longer and retry
    for t_pre in (options.t_pre, 10 * options.t_pre):
        pre = evolve(model, pre_lattice, t_pre, pre, options=EvolveOptions(n_times=2))
        if not pre.converged:
            problem = f"pre-integration failed: {pre.message}"
            return _result(model, lattice, geo, const, pre.mu[-1], np.zeros((6, geo.N)),
                           np.inf, problem, options)
        found = _fixed_point(geo, const, fk, pre.mu[-1], options)
        if not found[3]:
            result = _result(model, lattice, geo, const, *found, options)
            # without κ, a root whose bulk correlators grow is unstable as well
            if result.stable or (result.stable is None
                                 and _bulk_growth(found[0], const, geo, fk) < 0):
                return result
    return result if not found[3] else _result(model, lattice, geo, const, *found, options)


def _result(model, lattice, geo, const, mu, x, residual, problem, options) -> SteadyState:
    """Assemble a SteadyState: κ and stability, correlation length, total correlation."""
    converged = not problem
    kappa = kappa_imag = np.nan
    stable = None
    physical, note = _physicality(mu, x)
    message = problem or "converged" + note
    if converged and options.kappa:
        try:
            ev = _jacobian_spectrum(mu, x, geo, const, options.eigs_tol)
            kappa, kappa_imag = -float(ev[0].real), float(abs(ev[0].imag))
            stable = kappa > 0
        except scipy.sparse.linalg.ArpackNoConvergence:
            message = ("converged; the Jacobian's leading eigenvalue (kappa) did not converge"
                       + note)
    eta = _unpack(x, geo.shape)
    return SteadyState(mu, eta, converged, residual, kappa, kappa_imag, stable, physical,
                       _correlation_length(x, geo), eta.reshape(3, 3, -1).sum(axis=2),
                       message, model, lattice)


def _initial_mu(initial) -> np.ndarray:
    """μ of a start state given as None (all spins down), (mu, eta) or a result."""
    if initial is None:
        return np.array([0.0, 0.0, -1.0])
    if isinstance(initial, tuple) and len(initial) == 2:
        mu = initial[0]
    elif hasattr(initial, "mu"):
        mu = initial.mu[-1] if np.ndim(initial.mu) == 2 else initial.mu
    else:
        raise ValueError("initial must be None, a (mu, eta) pair or an mfqf result, "
                         f"got {initial!r}")
    mu = np.asarray(mu, dtype=float)
    if mu.shape != (3,) or not np.all(np.isfinite(mu)):
        raise ValueError(f"initial's mu must be a finite array of shape (3,), got {mu!r}")
    return mu


def _same_kind(lattice: Lattice, L: int) -> Lattice:
    """The lattice of the same kind and dimension with linear size L."""
    from . import lattice as lattices

    if lattice.kind == "chain":
        return lattices.chain(L)
    return lattices.hypercubic(L, lattice.dim)


# --------------------------------------------------------------------------------- continuation

_PARAMS = ("Delta", "Omega", "J")


def continuation(model: Model, lattice: Lattice, param: str, values, initial=None, *,
                 method: str = "natural", max_points: int = 400, progress: bool = False,
                 options: SteadyOptions = SteadyOptions()) -> Continuation:
    r"""Follow a branch of MFQF steady states as Δ, Ω or J varies.

    Parameters
    ----------
    model : Model
        The other parameters (its value of ``param`` is ignored).
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    param : {"Delta", "Omega", "J"}
    values : array_like, shape (n,)
        ``method="natural"``: the parameter values, in the order to visit them (increasing
        or decreasing: a sweep up and a sweep down show hysteresis). ``"arclength"``: the
        path starts at ``values[0]`` and is traced until the parameter leaves
        [min(values), max(values)]; the typical step is the mean spacing of ``values``.
    initial : None or result
        Start of the first point, as in :func:`steady_state` (default: all spins down, which
        picks the dynamically reached branch).
    method : {"natural", "arclength"}
        ``"natural"``: each point is warm-started from the previous one, with
        ``require_stable=True`` when ``options.kappa`` (an unstable root is rejected and the
        state relaxes in time from the previous one instead, as in a slow physical sweep);
        at a fold the branch ends and the next points land on the other branch (a jump,
        visible in the result). With ``kappa=False`` stability is not checked.
        ``"arclength"``: pseudo-arclength continuation of the reduced root problem
        :math:`\partial_t\vec\mu(\vec\mu, p) = 0` in (μ, p), which turns around folds and
        traces the unstable branch (its points have ``stable=False``).
    max_points : int
        Bound on the number of arclength steps.
    progress : bool
        Show a tqdm progress bar.
    options : SteadyOptions

    Returns
    -------
    Continuation
    """
    if param not in _PARAMS:
        raise ValueError(f"param must be one of {_PARAMS}, got {param!r}")
    if method not in ("natural", "arclength"):
        raise ValueError(f"method must be 'natural' or 'arclength', got {method!r}")
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("values must be a 1-d array of at least 2 finite numbers")
    geo = _geometry(lattice)
    _constants(model)
    points = []
    if method == "natural":
        prev = initial
        follow = dataclasses.replace(options, require_stable=options.kappa)
        for v in tqdm(values, disable=not progress, desc=f"MFQF {param}"):
            res = steady_state(model.replace(**{param: float(v)}), lattice, prev,
                               options=follow)
            points.append(res)
            prev = res if res.converged else prev
        reached = values
    else:
        points, reached = _arclength(model, lattice, geo, param, values, initial, max_points,
                                     progress, options)
    converged = all(p.converged for p in points)
    return Continuation(param, np.asarray(reached), tuple(points),
                        np.array([p.mu for p in points]),
                        np.array([p.stable for p in points], dtype=object), converged,
                        "all points converged" if converged else
                        f"{sum(not p.converged for p in points)} point(s) did not converge")


def _arclength(model, lattice, geo, param, values, initial, max_points, progress, options):
    """Pseudo-arclength continuation of F(μ, p) = ∂_t μ = 0 (η slaved), secant predictor."""
    fk = _Fourier.of(geo)
    lo, hi = values.min(), values.max()
    ds0 = abs(values[-1] - values[0]) / (values.size - 1)
    sign = 1.0 if values[-1] >= values[0] else -1.0

    def F(mu, p):
        return _reduced(mu, _constants(model.replace(**{param: p})), geo, fk)[0]

    first = steady_state(model.replace(**{param: float(values[0])}), lattice, initial,
                         options=options)
    points, reached = [first], [float(values[0])]
    if not first.converged:
        return points, reached
    y = np.r_[first.mu, values[0]]
    tangent = np.r_[np.zeros(3), sign]
    ds = ds0
    bar = tqdm(total=max_points, disable=not progress, desc=f"MFQF arclength {param}")
    while len(points) < max_points:
        pred = y + ds * tangent

        def G(z, pred=pred, tangent=tangent):
            return np.r_[F(z[:3], z[3]), tangent @ (z - pred)]

        with np.errstate(all="ignore"):
            sol = scipy.optimize.root(G, pred, method="hybr", options={"xtol": options.tol})
        if not sol.success or np.linalg.norm(sol.x - y) > 3 * ds:
            ds /= 2
            if ds < 1e-6 * ds0:
                break
            continue
        z = sol.x
        p = float(z[3])
        m = model.replace(**{param: p})
        const = _constants(m)
        res = _result(m, lattice, geo, const, *_checked(z[:3], True, "", geo, const, fk,
                                                        options), options)
        points.append(res)
        reached.append(p)
        bar.update()
        tangent = (z - y) / np.linalg.norm(z - y)
        y = z
        ds = min(1.5 * ds, 4 * ds0)
        if not lo - 1e-12 <= p <= hi + 1e-12:
            break
    bar.close()
    return points, reached
