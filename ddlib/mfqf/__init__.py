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
string engine of :mod:`ddlib.reference` in ``tests/test_mfqf.py``.

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

**Layout.** :mod:`~ddlib.mfqf.equations` (geometry, coefficients, numba kernel, :func:`rhs`,
:func:`evolve`), :mod:`~ddlib.mfqf.green` (η slaved to μ), :mod:`~ddlib.mfqf.stability` (κ),
:mod:`~ddlib.mfqf.steady` (:func:`steady_state`, branch following),
:mod:`~ddlib.mfqf.branches` (:func:`continuation`); this package re-exports the API.
Warm starts follow :mod:`ddlib.results`: ``initial`` is an MFQF result or a
:class:`~ddlib.results.SteadySummary` (anything else is a TypeError); a lattice whose arrays
would not fit in memory is refused before any work, with the estimate.

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

from .branches import Continuation, continuation
from .equations import PAIRS, Evolution, EvolveOptions, evolve, rhs
from .steady import SteadyOptions, SteadyState, steady_state

__all__ = ["EvolveOptions", "SteadyOptions", "Evolution", "SteadyState", "Continuation",
           "rhs", "evolve", "steady_state", "continuation", "PAIRS"]
