r"""MFQF equations and their kernel: geometry, coefficients, right-hand side, time evolution.

The closed equations are stated in the package docstring (:mod:`ddlib.mfqf`). This module
holds the periodic-lattice geometry (neighbour tables, inversion, point-group orbits), the
μ-independent coefficients of a model (from :func:`ddlib.model.onsite_terms`,
:func:`~ddlib.model.bond_terms`, :func:`~ddlib.model.jump_rate`), the numba kernel of the
correlator right-hand side, :func:`rhs` and :func:`evolve`.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from numbers import Real
from typing import NamedTuple

import numpy as np
import scipy.integrate

from .. import meanfield as _meanfield
from .._numba import njit
from ..lattice import Lattice
from ..model import Model, bond_terms, check_model, jump_rate, onsite_terms
from ..resources import available_memory, check_memory
from ..results import SteadySummary, TrajectoryResult, as_initial, check_options

#: The six independent components ab of η, in the order of the packed arrays.
PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
_PAIR = np.array([[0, 3, 4], [3, 1, 5], [4, 5, 2]], dtype=np.int64)
_PA = np.array([a for a, _ in PAIRS], dtype=np.int64)
_PB = np.array([b for _, b in PAIRS], dtype=np.int64)
_EPS = np.zeros((3, 3, 3))
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _EPS[_i, _j, _k], _EPS[_j, _i, _k] = 1.0, -1.0
_GAMMA_RATES = np.array([0.5, 0.5, 1.0])  # decay rates of σˣ, σʸ, σᶻ in units of Γ


#: ``scipy.integrate.solve_ivp`` methods.
_METHODS = _meanfield._METHODS


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
    symmetric : bool
        When the start state has the lattice's point symmetry (η_ab constant on the orbits of
        R under reflections and axis permutations, to 1e-12 of its largest entry, as every
        steady state and the default product state have), integrate only its symmetric
        sector: one value per orbit, the same equations (the symmetric sector is invariant),
        2^D D! times fewer unknowns (48 on L³). False integrates every site.
    """

    method: str = "DOP853"
    rtol: float = 1e-8
    atol: float = 1e-10
    n_times: int = 201
    max_norm: float = 1.0 + 1e-6
    symmetric: bool = True

    def __post_init__(self):
        # method, rtol, atol and n_times mean what they mean for MF's integrator: one check
        _meanfield.EvolveOptions.__post_init__(self)
        _positive("max_norm", self.max_norm)
        if not isinstance(self.symmetric, bool | np.bool_):
            raise TypeError(f"symmetric must be a bool, got {self.symmetric!r}")


@dataclass(frozen=True, kw_only=True)
class Evolution(TrajectoryResult):
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
    success : bool
        The integration reached ``t_final`` with finite values and :math:`|\\vec\\mu| \\le 1`
        (``converged`` is a read-only alias kept for earlier code).
    message : str
    model : Model
    lattice : Lattice
    """

    times: np.ndarray
    mu: np.ndarray
    eta_nn: np.ndarray
    eta: np.ndarray


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


def _check_lattice(lattice) -> Lattice:
    """A periodic hypercubic or chain lattice (translation invariance), else a ValueError."""
    if not isinstance(lattice, Lattice):
        raise ValueError(f"lattice must be a ddlib.lattice.Lattice, got {lattice!r}")
    if lattice.kind not in ("hypercubic", "chain") or not all(lattice.periodic):
        raise ValueError("lattice must be a periodic hypercubic(L, dim) or chain(N) "
                         f"(translation invariance), got {lattice!r}")
    return lattice


#: Peak memory in float64 numbers per lattice site, measured with tracemalloc
#: (``benchmarks/mfqf.py --memory``; 2D 128², 256², 3D 32³): ``steady_state`` ~76 (η packed
#: and unpacked, its Fourier transform (complex), the force field, the residual, the
#: symmetric-sector Jacobian), ``rhs`` ~21, ``evolve`` ~210 + 12 per output time (the DOP853
#: stages and the trajectory of the whole state that solve_ivp keeps). Rounded up, plus the
#: neighbour tables (2D + 6 integers per site).
_FLOATS_PER_SITE = {"steady_state": 80, "rhs": 24}


def _evolve_floats(n_times: int) -> int:
    return 220 + 12 * n_times


def _check_fits(lattice: Lattice, what: str, floats: int) -> None:
    """Refuse (naming ``lattice``, in well under a second) a computation whose arrays would not
    fit in the memory available now: ``floats`` float64 per site plus the neighbour tables."""
    per_site = 8 * (floats + 2 * lattice.dim + 6)
    check_memory(lattice.N * per_site, param="lattice", what=f"MFQF {what} on {lattice!r}",
                 counted=f"~{per_site} bytes per site x {lattice.N:,} sites: the correlator "
                         "field and its work arrays",
                 largest=f"L = {int((available_memory() / per_site) ** (1 / lattice.dim))} "
                         f"in {lattice.dim}D")


def _geometry(lattice) -> _Geometry:
    """Neighbour tables, inversion and point-group orbits of a periodic L^D lattice."""
    return _geometry_of(_check_lattice(lattice))


@functools.lru_cache(maxsize=8)
def _geometry_of(lattice: Lattice) -> _Geometry:
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
    # H_site = Σ_b B_b σ^b gives ∂_t σ^a = i[H_site, σ^a] = 2 Σ_bc ε_abc B_b σ^c: Π (Eq. D5)
    B = np.zeros(3)
    for a, c in onsite_terms(model).items():
        B["xyz".index(a)] = c
    Pi = 2 * np.einsum("abc,b->ac", _EPS, B)
    Lam = Pi - jump_rate(model) * np.diag(_GAMMA_RATES)
    # the bond components C of -J/2 Σ_{c∈C} σ^c σ^c (bond_terms: one coefficient -J/2 each)
    cm = np.zeros(3)
    for a, _b in bond_terms(model):
        cm["xyz".index(a)] = 1.0
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

    Examples
    --------
    Uncoupled spins (J = 0) in their closed-form steady state, without correlations: nothing
    moves, and no correlation is created.

    >>> import numpy as np
    >>> from ddlib import Model, lattice
    >>> from ddlib.model import single_spin_steady_state
    >>> free, ring = Model(Delta=1.0, Omega=0.5, J=0.0), lattice.chain(16)
    >>> dmu, deta = rhs(free, ring, single_spin_steady_state(free), np.zeros((3, 3, 16)))
    >>> bool(np.allclose(dmu, 0.0)), bool(np.allclose(deta, 0.0))
    (True, True)
    """
    const = _constants(model)
    mu, eta = _check_state(mu, eta, _check_lattice(lattice))
    _check_fits(lattice, "right-hand side", _FLOATS_PER_SITE["rhs"])
    geo = _geometry(lattice)
    x = _pack(eta)
    x[:, 0] = 0.0
    dy = _rhs_flat(np.concatenate([mu, x.ravel()]), geo, const)
    return dy[:3], _unpack(dy[3:].reshape(6, geo.N), geo.shape)


def _check_state(mu, eta, geo: _Geometry | Lattice):
    """(mu, eta) as float arrays of shapes (3,) and (3, 3, *geo.shape), finite."""
    mu = _check_mu(mu, "mu")
    try:
        eta = np.asarray(eta, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"eta must be a real array of shape {(3, 3, *geo.shape)}") from None
    if eta.shape != (3, 3, *geo.shape):
        raise ValueError(f"eta must have shape {(3, 3, *geo.shape)}, got {eta.shape}")
    if not np.all(np.isfinite(eta)):
        raise ValueError("eta must be finite")
    return mu, eta


def _check_initial(initial, lattice: Lattice | None = None):
    """The start state, checked before any work (the warm-start contract, :mod:`ddlib.results`).

    None (all spins down), an explicit ``(mu, eta)`` pair, an MFQF result (:class:`Evolution`:
    its last state; :class:`~ddlib.mfqf.SteadyState`) or a
    :class:`~ddlib.results.SteadySummary` (of any solver; a result of another solver with
    ``.summary()`` is turned into one). Anything else, e.g. a record that merely has ``.mu``
    and ``.model``, is a TypeError naming ``initial``. With ``lattice``, the correlators of
    a full state must be of its shape (:func:`evolve` continues from them).
    """
    from .steady import SteadyState

    if isinstance(initial, tuple):
        if len(initial) != 2:
            raise ValueError(f"initial as a tuple must be a (mu, eta) pair, got {len(initial)} "
                             "items")
    elif not isinstance(initial, Evolution | SteadyState | SteadySummary):
        initial = as_initial(initial, solver="ddlib.mfqf")
    mu = _initial_mu(initial)
    if lattice is not None and initial is not None and not isinstance(initial, SteadySummary):
        eta = initial[1] if isinstance(initial, tuple) else initial.eta
        try:
            _check_state(mu, eta, lattice)
        except ValueError as exc:
            raise ValueError(f"initial: {exc} (its correlators must be of the lattice "
                             f"{lattice!r}; a SteadySummary starts from its mu with eta = 0)") \
                from None
    return initial


def _initial_state(initial, geo: _Geometry):
    """(mu, packed x) from a start state of :func:`_check_initial` (a summary: η = 0)."""
    if initial is None:
        return np.array([0.0, 0.0, -1.0]), np.zeros((6, geo.N))
    mu = _initial_mu(initial)
    if isinstance(initial, SteadySummary):
        return mu, np.zeros((6, geo.N))
    eta = initial[1] if isinstance(initial, tuple) else initial.eta
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
           options: EvolveOptions | None = None) -> Evolution:
    r"""Integrate the MFQF equations (module docstring) in time.

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    t_final : float
        Final time (1/Γ).
    initial : None, (mu, eta), Evolution, SteadyState or SteadySummary
        Start state; default all spins down, μ = (0, 0, −1), η = 0. A result of
        :func:`evolve` (its last state) or :func:`steady_state` on the same lattice continues
        from it; a :class:`~ddlib.results.SteadySummary` starts from its μ with η = 0.
        Anything else is a TypeError naming ``initial``.
    times : array_like, optional
        Output times in [0, t_final]; default ``options.n_times`` evenly spaced.
    options : EvolveOptions, optional
        None: the defaults.

    Returns
    -------
    Evolution
        ``success`` is False (with the reason in ``message``) when the integrator failed,
        a value became non-finite or :math:`|\vec\mu|` exceeded ``options.max_norm``.

    Examples
    --------
    From all spins down (a product state, η = 0) the hopping builds nearest-neighbour
    correlations:

    >>> import numpy as np
    >>> from ddlib import Model, lattice
    >>> run = evolve(Model(Delta=1.0, Omega=0.5, J=0.5), lattice.chain(16), 10.0)
    >>> run.success, float(np.abs(run.eta_nn[0]).max()), bool(np.abs(run.eta_nn[-1]).max() > 0.01)
    (True, 0.0, True)
    """
    const = _constants(model)
    _check_lattice(lattice)
    t_final = _positive("t_final", t_final)
    options = check_options(options, EvolveOptions)
    if times is None:
        times = np.linspace(0.0, t_final, options.n_times)
    try:
        times = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"times must be an array of numbers, got {times!r}") from None
    if times.ndim != 1 or times.size < 1 or not np.all(np.isfinite(times)) \
            or times.min() < 0 or times.max() > t_final or np.any(np.diff(times) <= 0):
        raise ValueError("times must be increasing and within [0, t_final]")
    initial = _check_initial(initial, lattice)
    _check_fits(lattice, f"time evolution ({times.size} output times)",
                _evolve_floats(times.size))
    full = _geometry(lattice)
    mu0, x0 = _initial_state(initial, full)
    geo, x0 = _sector(full, x0, options.symmetric)
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
    x_last = last[3:].reshape(6, geo.N)
    if geo is not full:  # back from the orbits to every site
        x_last = x_last[:, full.orbit]
    return Evolution(times=ts, mu=ys[:, :3].copy(), eta_nn=eta_nn,
                     eta=_unpack(x_last, full.shape), success=converged,
                     message=message, model=model, lattice=lattice)


def _sector(geo: _Geometry, x: np.ndarray, symmetric: bool) -> tuple[_Geometry, np.ndarray]:
    """The geometry to integrate on and the packed state on it: the orbits of the point
    group (:func:`_orbit_tables`) when ``symmetric`` and ``x`` (6, N) is constant on them to
    1e-12 of its largest entry, else every site."""
    if not symmetric or geo.rep.size == geo.N:
        return geo, x
    on_orbits = x[:, geo.rep]
    if np.abs(on_orbits[:, geo.orbit] - x).max(initial=0.0) \
            > 1e-12 * max(np.abs(x).max(initial=0.0), 1e-300):
        return geo, x
    return _orbit_tables(geo), np.ascontiguousarray(on_orbits)


def _initial_mu(initial) -> np.ndarray:
    """μ of a start state of :func:`_check_initial` (None: all spins down)."""
    if initial is None:
        return np.array([0.0, 0.0, -1.0])
    if isinstance(initial, tuple):
        mu = initial[0]
    else:
        mu = initial.mu[-1] if np.ndim(initial.mu) == 2 else initial.mu
    return _check_mu(mu, "initial's mu")


def _check_mu(mu, name: str) -> np.ndarray:
    """``mu`` as a finite float array of shape (3,); a ValueError naming ``name`` otherwise."""
    try:
        mu = np.asarray(mu, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be 3 real numbers, got {mu!r}") from None
    if mu.shape != (3,) or not np.all(np.isfinite(mu)):
        raise ValueError(f"{name} must be a finite array of shape (3,), got {mu!r}")
    return mu
