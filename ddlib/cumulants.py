r"""The MFQF equations of App. D, derived by machine from the Lindbladian.

A small Pauli-string algebra applies the adjoint (Heisenberg-picture) Lindbladian of
Eqs. (1)–(3),

.. math::

    \mathcal L^\dagger[O] = i[H, O] + \Gamma\sum_R\Big(\sigma^+_R O\,\sigma^-_R
        - \tfrac12\{\sigma^+_R\sigma^-_R, O\}\Big),\qquad
    \partial_t\langle O\rangle = \langle\mathcal L^\dagger[O]\rangle,

to products of Pauli matrices on distinct sites, using on one site
:math:`\sigma^a\sigma^b = \delta_{ab} + i\epsilon_{abc}\sigma^c`. Applied to
:math:`\sigma^a_0` it gives the exact one-point equations (4)–(6); applied to
:math:`\sigma^a_R\sigma^b_0` it gives :math:`\partial_t\vartheta_{ab}(R)` (Eq. D4) in terms of
one-, two- and three-point expectation values. The MFQF closure sets the connected three-point
correlator :math:`\zeta` of Eq. (D3) to zero,

.. math::

    \langle ABC\rangle \to \langle A\rangle\langle BC\rangle + \langle B\rangle\langle AC\rangle
        + \langle C\rangle\langle AB\rangle - 2\langle A\rangle\langle B\rangle\langle C\rangle,

and :math:`\partial_t\eta_{ab} = \partial_t\vartheta_{ab} - \partial_t(\mu_a\mu_b)` (Eq. D6).

Three uses:

* :func:`mfqf_rhs_reference` — the closed right-hand side on a concrete small periodic lattice,
  by brute-force algebra (slow, no symmetry shortcuts): the independent reference that the fast
  solver :mod:`ddlib.mfqf` is tested against.
* :func:`derived_equations` — the same algebra with symbolic coefficients, giving the equations
  in the form of App. D (μ, ϑ(R), ϑ(1), the sum over the neighbours R' of R, δ_{|R|,1}, Z);
  :func:`printed_equations` transcribes the paper's App. D and :func:`misprints` lists where the
  two differ (D4's first sum; g_zz, g_xz, g_yz of D14).
* the exact route on small lattices (QuTiP, independent of the Pauli algebra):
  :func:`correlated_product_state`, :func:`exact_rates` and :func:`closure_error_scan` (the
  closed rates match the exact ones up to O(ε²) in states with pair correlations of order ε),
  :func:`lindblad_evolution` and :func:`reference_evolution` (exact and MFQF μ(t)).

Conventions: axes a ∈ (x, y, z) = (0, 1, 2); σ⁻ lowers, the decay drives spins to
μ = (0, 0, −1) (see :mod:`ddlib.model`); Γ = 1 unless the model says otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from numbers import Number
from types import SimpleNamespace

import numpy as np

from .lattice import Lattice, check_lattice
from .model import PAULI, SIGMA_MINUS, Model, bond_terms, check_model, onsite_terms

__all__ = ["AXES", "Poly", "PauliSum", "commutator", "hamiltonian_paulis",
           "adjoint_lindbladian", "closed_expectation", "mfqf_rhs_reference", "Equations",
           "derived_equations", "printed_equations", "Misprint", "misprints",
           "symmetric_pair_amplitudes", "correlated_product_state", "ExactRates", "exact_rates",
           "ClosureScan", "closure_error_scan", "MagnetisationTrajectory", "lindblad_evolution",
           "reference_evolution"]

AXES = "xyz"
_LEVI = {(0, 1, 2): 1, (1, 2, 0): 1, (2, 0, 1): 1, (0, 2, 1): -1, (2, 1, 0): -1, (1, 0, 2): -1}


# --------------------------------------------------------------------------------------------
# Coefficients: numbers or polynomials in named symbols
# --------------------------------------------------------------------------------------------


class Poly:
    """A polynomial with complex coefficients in commuting named symbols.

    ``terms`` maps a monomial (sorted tuple of symbol names, repeated for powers) to its
    coefficient. Mixes with Python numbers in ``+``, ``-``, ``*``; used as the coefficient
    type when the algebra runs symbolically (:func:`derived_equations`).
    """

    __slots__ = ("terms",)

    def __init__(self, terms=None):
        self.terms = {m: c for m, c in (terms or {}).items() if c != 0}

    @classmethod
    def symbol(cls, name: str) -> Poly:
        return cls({(name,): 1.0})

    @staticmethod
    def _lift(other) -> Poly:
        return other if isinstance(other, Poly) else Poly({(): other})

    def __add__(self, other):
        if not isinstance(other, Poly | Number):
            return NotImplemented
        out = dict(self.terms)
        for m, c in Poly._lift(other).terms.items():
            out[m] = out.get(m, 0) + c
        return Poly(out)

    __radd__ = __add__

    def __neg__(self):
        return Poly({m: -c for m, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-Poly._lift(other))

    def __rsub__(self, other):
        return Poly._lift(other) - self

    def __mul__(self, other):
        if not isinstance(other, Poly | Number):
            return NotImplemented
        other = Poly._lift(other)
        out: dict = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = tuple(sorted(m1 + m2))
                out[m] = out.get(m, 0) + c1 * c2
        return Poly(out)

    __rmul__ = __mul__

    def __bool__(self):
        return bool(self.terms)

    def __eq__(self, other):
        return isinstance(other, Poly | Number) and not (self - other).terms

    __hash__ = None

    def subs(self, values: dict) -> Poly:
        """Replace symbols by numbers or polynomials (``values``: name → value)."""
        out = Poly()
        for m, c in self.terms.items():
            term = Poly({(): c})
            for name in m:
                term = term * values.get(name, Poly.symbol(name))
            out = out + term
        return out

    def split(self, predicate) -> tuple[Poly, Poly]:
        """(terms whose monomial satisfies ``predicate``, the others)."""
        yes = {m: c for m, c in self.terms.items() if predicate(m)}
        return Poly(yes), Poly({m: c for m, c in self.terms.items() if m not in yes})

    def value(self) -> complex:
        """The number a symbol-free polynomial stands for."""
        if any(self.terms.keys() - {()}):
            raise ValueError(f"polynomial still holds symbols: {self!r}")
        return self.terms.get((), 0)

    def latex(self) -> str:
        """LaTeX form, real rational coefficients (raises for a complex coefficient)."""
        if not self.terms:
            return "0"
        parts = []
        for m in sorted(self.terms, key=_monomial_order):
            c = complex(self.terms[m])
            if abs(c.imag) > 1e-12 * max(1.0, abs(c.real)):
                raise ValueError(f"complex coefficient {c} in {self!r}")
            q = Fraction(c.real).limit_denominator(64)
            body = _latex_monomial(m)
            mag = abs(q)
            if not body:
                text = _latex_fraction(mag)
            elif mag == 1:
                text = body
            else:
                text = _latex_fraction(mag) + body
            parts.append(("-" if q < 0 else "+", text))
        out = " ".join(f"{s} {t}" for s, t in parts)
        return out[2:] if out.startswith("+ ") else "-" + out[2:]

    def __repr__(self):
        return f"Poly({self.terms!r})"


def _latex_fraction(q: Fraction) -> str:
    if q.denominator == 1:
        return str(q.numerator)
    return rf"\tfrac{{{q.numerator}}}{{{q.denominator}}}"


_PARAM_TEX = {"Delta": r"\Delta", "Omega": r"\Omega", "Gamma": r"\Gamma", "J": "J",
              "J_z": "J_z", "Z": r"\mathcal{Z}", "delta": r"\delta_{\|R\|,1}"}


def _latex_symbol(name: str) -> str:
    if name in _PARAM_TEX:
        return _PARAM_TEX[name]
    if name.startswith("mu_"):
        return rf"\mu_{name[3]}"
    ab, where = name[3:5], name[6:-1]
    return rf"\vartheta_{{{ab}}}({where})"


def _monomial_order(m: tuple) -> tuple:
    params = [s for s in m if s in _PARAM_TEX]
    fields = [s for s in m if s not in _PARAM_TEX]
    return (len(fields), [s.startswith("th_") for s in fields], fields, params)


def _latex_monomial(m: tuple) -> str:
    out = []
    for name in dict.fromkeys(m):
        power = m.count(name)
        tex = _latex_symbol(name)
        out.append(tex if power == 1 else rf"{tex}^{power}")
    return " ".join(out)


def _is_zero(c) -> bool:
    return not c if isinstance(c, Poly) else c == 0


# --------------------------------------------------------------------------------------------
# Pauli strings
# --------------------------------------------------------------------------------------------


class PauliSum:
    r"""A linear combination of Pauli strings :math:`c\,\sigma^{a_1}_{s_1}\cdots\sigma^{a_n}_{s_n}`.

    ``terms`` maps a string — a tuple of ``(site, a)`` sorted by site, distinct sites,
    a ∈ {0, 1, 2} for x, y, z; ``()`` is the identity — to its coefficient (a number or a
    :class:`Poly`). ``+``, ``-`` and ``*`` (operator product; numbers scale) are defined; on a
    shared site the product uses :math:`\sigma^a\sigma^b = \delta_{ab}+i\epsilon_{abc}\sigma^c`.
    Sites are any sortable labels (lattice site indices in ``ddlib``).
    """

    __slots__ = ("terms",)

    def __init__(self, terms=None):
        self.terms = {k: c for k, c in (terms or {}).items() if not _is_zero(c)}

    @classmethod
    def sigma(cls, site, a: int, coeff=1.0) -> PauliSum:
        """:math:`c\\,\\sigma^a_{site}`."""
        return cls({((site, a),): coeff})

    @classmethod
    def string(cls, factors, coeff=1.0) -> PauliSum:
        """:math:`c\\prod\\sigma^{a}_{site}`, ``factors`` = [(site, a), ...] on distinct sites."""
        factors = sorted(factors, key=lambda f: f[0])
        if len({s for s, _ in factors}) != len(factors):
            raise ValueError(f"factors must sit on distinct sites, got {factors!r}")
        return cls({tuple(factors): coeff})

    @classmethod
    def identity(cls, coeff=1.0) -> PauliSum:
        return cls({(): coeff})

    @property
    def support(self) -> set:
        """The sites on which some term acts."""
        return {s for key in self.terms for s, _ in key}

    def __add__(self, other):
        if not isinstance(other, PauliSum):
            other = PauliSum.identity(other)
        out = dict(self.terms)
        for k, c in other.terms.items():
            out[k] = out[k] + c if k in out else c
        return PauliSum(out)

    __radd__ = __add__

    def __neg__(self):
        return PauliSum({k: -c for k, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if not isinstance(other, PauliSum):
            return PauliSum({k: c * other for k, c in self.terms.items()})
        out: dict = {}
        for k1, c1 in self.terms.items():
            for k2, c2 in other.terms.items():
                phase, key = _string_product(k1, k2)
                c = c1 * c2 * phase
                out[key] = out[key] + c if key in out else c
        return PauliSum(out)

    def __rmul__(self, other):
        return PauliSum({k: other * c for k, c in self.terms.items()})

    def to_matrix(self, n_sites: int) -> np.ndarray:
        """Dense matrix on :math:`2^{n}` states, site 0 the leftmost factor, basis (|↑⟩, |↓⟩)
        (QuTiP's ordering, as in :mod:`ddlib.model`). Numeric coefficients only."""
        out = np.zeros((2**n_sites, 2**n_sites), dtype=complex)
        for key, c in self.terms.items():
            factors = [_PAULI[3]] * n_sites
            for site, a in key:
                factors[site] = _PAULI[a]
            m = np.ones((1, 1))
            for f in factors:
                m = np.kron(m, f)
            out += complex(c) * m
        return out

    def __repr__(self):
        if not self.terms:
            return "0"
        def coefficient(c):
            if isinstance(c, Poly):
                return f"({c.latex()})"
            c = complex(c)
            return f"{c.real:g}" if c.imag == 0 else f"({c:g})"

        return " + ".join(coefficient(c) + "".join(f" {AXES[a].upper()}{s}" for s, a in k)
                          for k, c in self.terms.items()).replace("+ -", "- ")


_PAULI = (np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]]),
          np.array([[1, 0], [0, -1]], dtype=complex), np.eye(2, dtype=complex))


def _string_product(k1: tuple, k2: tuple) -> tuple[complex, tuple]:
    """Product of two Pauli strings: (phase, string)."""
    ops = dict(k1)
    phase = 1.0 + 0j
    for site, b in k2:
        a = ops.pop(site, None)
        if a is None:
            ops[site] = b
        elif a != b:
            c = 3 - a - b
            phase *= 1j * _LEVI[a, b, c]
            ops[site] = c
    return phase, tuple(sorted(ops.items()))


def commutator(A: PauliSum, B: PauliSum) -> PauliSum:
    """:math:`[A, B] = AB - BA`."""
    return A * B - B * A


# --------------------------------------------------------------------------------------------
# Hamiltonian and adjoint Lindbladian
# --------------------------------------------------------------------------------------------


def _site_terms(site, Delta, Omega) -> PauliSum:
    """The on-site terms of :func:`ddlib.model.onsite_terms` on ``site`` (numbers or symbols)."""
    out = PauliSum()
    for a, c in onsite_terms(SimpleNamespace(Delta=Delta, Omega=Omega)).items():
        out = out + PauliSum.sigma(site, AXES.index(a), c)
    return out


def _bond_terms(i, j, J, coupling: str) -> PauliSum:
    """The bond terms of :func:`ddlib.model.bond_terms` on the bond (i, j)."""
    out = PauliSum()
    for (a, b), c in bond_terms(SimpleNamespace(J=J, coupling=coupling)).items():
        out = out + PauliSum.string([(i, AXES.index(a)), (j, AXES.index(b))], c)
    return out


def hamiltonian_paulis(model: Model, lattice: Lattice) -> PauliSum:
    r"""H of Eq. (2) (``coupling="xy"``) or Eq. (B1) (``"ising"``) as a Pauli sum.

    .. math::

        H = \sum_R\Big[\tfrac{\Delta}{2}\sigma^z_R + \Omega\sigma^x_R\Big]
            - \tfrac{J}{2}\sum_{\langle R,R'\rangle}(\sigma^x_R\sigma^x_{R'}
            + \sigma^y_R\sigma^y_{R'})\quad\text{or}\quad
            - \tfrac{J_z}{2}\sum_{\langle R,R'\rangle}\sigma^z_R\sigma^z_{R'}.

    Sites are the lattice's site indices 0 … N−1; the bonds are ``lattice.bonds``.
    """
    _check_model_lattice(model, lattice)
    H = PauliSum()
    for s in range(lattice.N):
        H = H + _site_terms(s, model.Delta, model.Omega)
    for i, j in lattice.bonds:
        H = H + _bond_terms(int(i), int(j), model.J, model.coupling)
    return H


_LADDER_OPS = {}  # site -> (σ⁺, σ⁻, σ⁺σ⁻), built on demand


def _ladder(site):
    r"""(σ⁺, σ⁻, σ⁺σ⁻) on ``site``, the jump operator :data:`ddlib.model.SIGMA_MINUS` expanded
    in Pauli matrices, :math:`c_a = \tfrac12\operatorname{tr}(\sigma^a\sigma^-)`."""
    if site not in _LADDER_OPS:
        coeffs = {a: complex(np.trace(PAULI[a] @ SIGMA_MINUS)) / 2 for a in AXES}
        minus, plus = PauliSum(), PauliSum()
        for a, c in coeffs.items():
            if c != 0:
                minus = minus + PauliSum.sigma(site, AXES.index(a), c)
                plus = plus + PauliSum.sigma(site, AXES.index(a), c.conjugate())
        _LADDER_OPS[site] = (plus, minus, plus * minus)
    return _LADDER_OPS[site]


def _adjoint(op: PauliSum, H: PauliSum, Gamma) -> PauliSum:
    """i[H, O] + Γ Σ_{s ∈ supp O} (σ⁺_s O σ⁻_s − ½{σ⁺_sσ⁻_s, O}).

    Terms of H acting outside the support of O commute with it and are skipped; so are the
    dissipators of sites outside the support, which vanish identically (σ^± of such a site
    commute with O, and σ⁺Oσ⁻ − ½{σ⁺σ⁻, O} = Oσ⁺σ⁻ − σ⁺σ⁻O = 0).
    """
    support = op.support
    near = PauliSum({k: c for k, c in H.terms.items() if any(s in support for s, _ in k)})
    out = 1j * commutator(near, op)
    for s in sorted(support):
        plus, minus, n = _ladder(s)
        out = out + (plus * op * minus - 0.5 * (n * op + op * n)) * Gamma
    return out


def adjoint_lindbladian(model: Model, lattice: Lattice, op: PauliSum) -> PauliSum:
    r"""The Heisenberg-picture generator applied to an observable, Eqs. (1)–(3):

    .. math::

        \mathcal L^\dagger[O] = i[H, O] + \Gamma\sum_R\Big(\sigma^+_R O\,\sigma^-_R
            - \tfrac12\{\sigma^+_R\sigma^-_R, O\}\Big),

    so that :math:`\operatorname{tr}(O\,\mathcal L[\rho]) = \operatorname{tr}(\mathcal
    L^\dagger[O]\,\rho)` and :math:`\partial_t\langle O\rangle = \langle\mathcal
    L^\dagger[O]\rangle`.

    Parameters
    ----------
    model : Model
    lattice : Lattice
    op : PauliSum
        Observable on sites ``0 … lattice.N − 1``.
    """
    if not isinstance(op, PauliSum):
        raise ValueError(f"op must be a PauliSum, got {type(op).__name__}")
    if any(not (0 <= s < lattice.N) for s in op.support):
        raise ValueError(f"op acts on sites {sorted(op.support)} outside the lattice "
                         f"(N = {lattice.N})")
    return _adjoint(op, hamiltonian_paulis(model, lattice), model.Gamma)


def closed_expectation(op: PauliSum, one, two):
    r"""⟨op⟩ with the connected three-point correlators set to zero (the MFQF closure).

    .. math::

        \langle ABC\rangle = \langle A\rangle\langle BC\rangle + \langle B\rangle\langle
            AC\rangle + \langle C\rangle\langle AB\rangle - 2\langle A\rangle\langle B\rangle
            \langle C\rangle\quad(\zeta = 0,\ \text{Eq. D3}).

    Parameters
    ----------
    op : PauliSum
        Strings on at most three sites (what :math:`\mathcal L^\dagger` makes of two-site ones).
    one : callable ``(site, a) -> value``
        :math:`\langle\sigma^a_{site}\rangle`.
    two : callable ``((i, a), (j, b)) -> value``
        :math:`\langle\sigma^a_i\sigma^b_j\rangle` for i ≠ j.

    Values may be numbers or :class:`Poly`; so is the result.
    """
    total = 0
    for key, c in op.terms.items():
        if len(key) == 0:
            v = 1.0
        elif len(key) == 1:
            v = one(*key[0])
        elif len(key) == 2:
            v = two(*key)
        elif len(key) == 3:
            A, B, C = key
            mA, mB, mC = one(*A), one(*B), one(*C)
            v = mA * two(B, C) + mB * two(A, C) + mC * two(A, B) - 2 * mA * mB * mC
        else:
            raise ValueError(f"closure is defined up to three-point strings, got {key!r}")
        total = total + c * v
    return total


# --------------------------------------------------------------------------------------------
# The closed right-hand side on a concrete lattice (reference for ddlib.mfqf)
# --------------------------------------------------------------------------------------------


def _check_model_lattice(model, lattice):
    check_model(model)
    check_lattice(lattice)


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
    """
    _check_model_lattice(model, lattice)
    if lattice.kind not in ("chain", "hypercubic") or not all(lattice.periodic):
        raise ValueError(f"lattice must be a periodic chain or hypercubic lattice, got {lattice!r}")
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


def _real_array(name, value, shape) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real array of shape {shape}") from exc
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


# --------------------------------------------------------------------------------------------
# Symbolic equations in the form of App. D
# --------------------------------------------------------------------------------------------

_PAIRS = ("xx", "yy", "zz", "xy", "xz", "yz")


def _mu(a: str) -> Poly:
    return Poly.symbol(f"mu_{a}")


def _th(ab: str, where: str) -> Poly:
    return Poly.symbol(f"th_{''.join(sorted(ab))}({where})")


def _nearest(p: Poly) -> Poly:
    """p at |R| = 1: ϑ(R) → ϑ(1)."""
    return p.subs({f"th_{q}(R)": _th(q, "1") for q in _PAIRS})


@dataclass(frozen=True)
class Equations:
    r"""The MFQF equations in the grouping of App. D, as polynomials (:class:`Poly`).

    .. math::

        \partial_t\vartheta_{ab}(R) = \underbrace{\textstyle\sum_d\Pi_{ad}\vartheta_{db}(R)
            + \sum_d\Pi_{bd}\vartheta_{ad}(R)}_{\text{local}} + g_{ab}
            + \underbrace{\delta_{\|R\|,1}F^{(1)}_{ab} + [\mathcal Z - \delta_{\|R\|,1}]
            F^{(\mathcal Z)}_{ab} + \sum_{R'\neq0,\|R'-R\|=1}F^{(\Sigma)}_{ab}(R')}_{f_{ab}}

    Symbols: ``mu_a`` (μ_a), ``th_ab(R)``, ``th_ab(1)`` (nearest neighbour), ``th_ab(R')``
    (inside the sum over the neighbours R' ≠ 0 of R), with a ≤ b in x < y < z (ϑ symmetric,
    which assumes inversion symmetry); parameters ``Delta``, ``Omega``, ``Gamma``, ``J`` (XY)
    or ``J_z`` (Ising), ``Z``.

    Attributes
    ----------
    coupling : str
        ``"xy"`` or ``"ising"``.
    source : str
        ``"derived"`` or ``"printed"`` (App. D of the paper, transcribed).
    mu : dict
        ``"x"`` → right-hand side of ∂_t μ_x (Eqs. 4–6, ϑ(1) = η(1) + μμ), etc.
    local, g, f_delta, f_Z, f_sum : dict
        ``"xz"`` → the Π part, :math:`g_{xz}`, :math:`F^{(1)}`, :math:`F^{(\mathcal Z)}`,
        :math:`F^{(\Sigma)}` of :math:`\partial_t\vartheta_{xz}(R)`; keys :data:`_PAIRS`.
    """

    coupling: str
    source: str
    mu: dict
    local: dict
    g: dict
    f_delta: dict
    f_Z: dict
    f_sum: dict

    def coupling_part(self, ab: str, case: str) -> Poly:
        r""":math:`f_{ab}` for ``case="far"`` (|R| ≥ 2: δ = 0) or ``"nn"`` (|R| = 1: δ = 1 and
        ϑ(R) = ϑ(1), where only the sum of the δ- and [Z − δ]-terms is meaningful)."""
        ab = "".join(sorted(ab))
        Z = Poly.symbol("Z")
        if case == "far":
            return Z * self.f_Z[ab] + self.f_sum[ab]
        if case != "nn":
            raise ValueError(f"case must be 'far' or 'nn', got {case!r}")
        return _nearest(self.f_delta[ab] + (Z - 1) * self.f_Z[ab] + self.f_sum[ab])

    def theta_rhs(self, ab: str, case: str) -> Poly:
        r"""Full :math:`\partial_t\vartheta_{ab}(R)` at |R| ≥ 2 (``"far"``) or |R| = 1
        (``"nn"``), see :meth:`coupling_part`."""
        ab = "".join(sorted(ab))
        local = self.local[ab] + self.g[ab]
        return (local if case == "far" else _nearest(local)) + self.coupling_part(ab, case)

    def evaluate(self, model: Model, lattice: Lattice, mu, eta) -> tuple[np.ndarray, np.ndarray]:
        r"""These equations as numbers: (∂_t μ, ∂_t η) in the layout of
        :func:`mfqf_rhs_reference`.

        The sum over R' runs over the neighbours R' ≠ 0 of R on ``lattice``;
        :math:`\vartheta(1)` is the mean of ϑ over the neighbours of the origin and
        :math:`\vartheta_{ab} = \tfrac12(\vartheta_{ab} + \vartheta_{ba})` — exact for a state
        with the lattice's point symmetry, which these equations assume.
        """
        _check_model_lattice(model, lattice)
        if model.coupling != self.coupling:
            raise ValueError(f"model.coupling is {model.coupling!r}, these equations are for "
                             f"{self.coupling!r}")
        mu = _real_array("mu", mu, (3,))
        eta = _real_array("eta", eta, (3, 3, *lattice.shape))
        coords = np.asarray(lattice.coords)
        A = lattice.adjacency()

        def theta(s):  # symmetrised ϑ_ab at the displacement of site s, by symbol name
            R = tuple(int(v) for v in coords[s])
            th = np.outer(mu, mu) + eta[(slice(None), slice(None)) + R]
            th = 0.5 * (th + th.T)
            return {ab: th[AXES.index(ab[0]), AXES.index(ab[1])] for ab in _PAIRS}

        nn = np.flatnonzero(A[0])
        th1 = {ab: np.mean([theta(s)[ab] for s in nn]) for ab in _PAIRS}
        values = {"Delta": model.Delta, "Omega": model.Omega, "Gamma": model.Gamma,
                  "J": model.J, "J_z": model.J, "Z": float(lattice.Z)}
        values.update({f"mu_{a}": mu[i] for i, a in enumerate(AXES)})
        values.update({f"th_{ab}(1)": v for ab, v in th1.items()})
        dmu = np.array([self.mu[a].subs(values).value().real for a in AXES])
        deta = np.zeros_like(eta)
        for s in range(1, lattice.N):
            here = dict(values, delta=float(A[0, s]))
            here.update({f"th_{ab}(R)": v for ab, v in theta(s).items()})
            neighbours = [t for t in np.flatnonzero(A[s]) if t != 0]
            for ab in _PAIRS:
                value = (self.local[ab] + self.g[ab] + here["delta"] * self.f_delta[ab]
                         + (here["Z"] - here["delta"]) * self.f_Z[ab]).subs(here).value()
                for t in neighbours:
                    th_t = theta(t)
                    value += self.f_sum[ab].subs(
                        dict(here, **{f"th_{p}(R')": th_t[p] for p in _PAIRS})).value()
                a, b = AXES.index(ab[0]), AXES.index(ab[1])
                R = tuple(int(v) for v in coords[s])
                deta[(a, b) + R] = deta[(b, a) + R] = (
                    value.real - dmu[a] * mu[b] - mu[a] * dmu[b])
        return dmu, deta

    def latex(self) -> list[str]:
        """LaTeX rows for an ``aligned`` block: ∂_t μ_a, then ∂_t ϑ_ab(R) in the grouping
        above, the local and g terms on the first row of each, each part of f on its own."""
        rows = [rf"\partial_t\mu_{a} &= {self.mu[a].latex()}" for a in AXES]
        for ab in _PAIRS:
            head = " + ".join(t for t in (self.local[ab].latex(), self.g[ab].latex())
                              if t != "0").replace("+ -", "- ")
            rows.append(rf"\partial_t\vartheta_{{{ab}}}(R) &= {head or '0'}")
            parts = ((self.f_delta[ab], r"\delta_{\|R\|,1}"),
                     (self.f_Z[ab], r"[\mathcal{Z}-\delta_{\|R\|,1}]"),
                     (self.f_sum[ab], r"\sum_{R'\neq0,\|R'-R\|=1}"))
            rows += [rf"&\quad + {factor}\big[{part.latex()}\big]" for part, factor in parts
                     if part]
        return rows


def _symbolic_closure(labels: dict):
    """one/two callables giving μ and ϑ symbols; ``labels[{i, j}]`` names the displacement."""

    def one(site, a):
        return _mu(AXES[a])

    def two(A, B):
        (i, a), (j, b) = A, B
        return _th(AXES[a] + AXES[b], labels[frozenset((i, j))])

    return one, two


@functools.lru_cache(maxsize=2)
def derived_equations(coupling: str = "xy") -> Equations:
    r"""The MFQF equations derived by applying :math:`\mathcal L^\dagger` with symbolic
    coefficients, grouped as App. D (Eqs. 4–6, D4, D8–D14 for XY; D16–D21 for Ising).

    The derivation runs on four representative sites: the origin 0, the site R, a neighbour
    R' ≠ 0 of R and a neighbour r ≠ R of 0. Each of the :math:`\mathcal Z - \delta_{\|R\|,1}`
    bonds (R, R') and (0, r) gives a three-point string, closed with ζ = 0 into μ·ϑ(R),
    μ·ϑ(1) (the bond's own correlator), μ³ and μ·ϑ(R') terms (for the bond at 0,
    ⟨σ_R σ_r⟩ = ϑ(R − r), R − r again a neighbour ≠ 0 of R); the bond (R, 0), present when
    |R| = 1, gives a two-site string evaluated exactly. This assumes the lattice symmetry of
    App. D: ϑ(δ) the same for all nearest neighbours δ, and ϑ_ab = ϑ_ba (inversion).

    Parameters
    ----------
    coupling : {"xy", "ising"}

    Returns
    -------
    Equations
        ``source="derived"``.
    """
    if coupling not in ("xy", "ising"):
        raise ValueError(f"coupling must be 'xy' or 'ising', got {coupling!r}")
    Delta, Omega, Gamma = (Poly.symbol(n) for n in ("Delta", "Omega", "Gamma"))
    J = Poly.symbol("J" if coupling == "xy" else "J_z")
    origin, R, Rp, r = 0, 1, 2, 3
    H_local = {s: _site_terms(s, Delta, Omega) for s in (origin, R)}

    def diss(op):
        return _adjoint(op, PauliSum(), Gamma)

    # one-point equations: Z identical bonds (0, r)
    one, two = _symbolic_closure({frozenset((origin, r)): "1"})
    mu = {}
    for a in range(3):
        op = PauliSum.sigma(origin, a)
        rhs = (1j * commutator(H_local[origin], op) + diss(op)
               + commutator(_bond_terms(origin, r, J, coupling), op) * (1j * Poly.symbol("Z")))
        mu[AXES[a]] = _real_poly(closed_expectation(rhs, one, two))

    labels = {frozenset((R, origin)): "R", frozenset((R, Rp)): "1", frozenset((Rp, origin)): "R'",
              frozenset((origin, r)): "1", frozenset((R, r)): "R'"}
    one, two = _symbolic_closure(labels)
    out = {k: {} for k in ("local", "g", "f_delta", "f_Z", "f_sum")}
    for ab in _PAIRS:
        a, b = AXES.index(ab[0]), AXES.index(ab[1])
        op = PauliSum.string([(R, a), (origin, b)])

        def closed(x):
            return _real_poly(closed_expectation(x, one, two))

        out["local"][ab] = closed(1j * commutator(H_local[R] + H_local[origin], op))
        out["g"][ab] = closed(diss(op))
        out["f_delta"][ab] = closed(1j * commutator(_bond_terms(R, origin, J, coupling), op))
        bonds = closed(1j * commutator(_bond_terms(R, Rp, J, coupling)
                                       + _bond_terms(origin, r, J, coupling), op))
        out["f_sum"][ab], out["f_Z"][ab] = bonds.split(lambda m: any("(R')" in s for s in m))
    return Equations(coupling, "derived", mu, **out)


def _real_poly(p) -> Poly:
    p = Poly._lift(p)
    for m, c in p.terms.items():
        if abs(complex(c).imag) > 1e-12:
            raise ArithmeticError(f"non-real coefficient {c} of {m} in an expectation value")
    return Poly({m: complex(c).real for m, c in p.terms.items()})


def printed_equations(coupling: str = "xy") -> Equations:
    r"""Eqs. (4)–(6) and App. D exactly as printed in the paper, in the grouping of
    :class:`Equations` (D4 with D5 and D14; f from D8–D13 for XY, D16–D21 for Ising).

    Transcribed literally, misprints included: in particular the first sum of D4 is read as
    printed, :math:`\sum_d\Pi_{ad}\vartheta_{ab}(R)`. For the Ising model Eqs. (4)–(6) hold
    with :math:`J\to-J_z` (App. B). Γ is restored where the paper sets Γ = 1.
    """
    if coupling not in ("xy", "ising"):
        raise ValueError(f"coupling must be 'xy' or 'ising', got {coupling!r}")
    Delta, Omega, Gamma, Z = (Poly.symbol(n) for n in ("Delta", "Omega", "Gamma", "Z"))
    J = Poly.symbol("J") if coupling == "xy" else -1 * Poly.symbol("J_z")
    mx, my, mz = _mu("x"), _mu("y"), _mu("z")
    # Eqs. (4)-(6), with eta(1) = theta(1) - mu mu
    mu = {"x": -J * Z * _th("yz", "1") - Delta * my - 0.5 * Gamma * mx,
          "y": J * Z * _th("xz", "1") - 2 * Omega * mz + Delta * mx - 0.5 * Gamma * my,
          "z": 2 * Omega * my - Gamma * (1 + mz)}
    # D4 with D5: sum_d Pi_ad theta_ab + sum_d Pi_bd theta_ad (as printed)
    Pi = {"x": {"y": -Delta}, "y": {"x": Delta, "z": -2 * Omega}, "z": {"y": 2 * Omega}}
    local = {}
    for ab in _PAIRS:
        a, b = ab
        local[ab] = (sum((p for p in Pi[a].values()), Poly()) * _th(ab, "R")
                     + sum((p * _th(a + d, "R") for d, p in Pi[b].items()), Poly()))
    # D14
    g = {"xx": -Gamma * _th("xx", "R"), "yy": -Gamma * _th("yy", "R"),
         "zz": -Gamma * _th("zz", "R"), "xy": -Gamma * _th("xy", "R"),
         "xz": -Gamma * (2 * _th("xz", "R") + 1.5 * mx),
         "yz": -Gamma * (2 * _th("yz", "R") + 1.5 * my)}
    f_delta, f_Z, f_sum = _printed_f(coupling)
    return Equations(coupling, "printed", mu, local, g, f_delta, f_Z, f_sum)


def _printed_f(coupling: str):
    """f_ab of D8–D13 (XY) or D16–D21 (Ising), split as (δ terms, [Z − δ] bracket, Σ_R')."""
    mx, my, mz = _mu("x"), _mu("y"), _mu("z")

    def t(ab, where):
        return _th(ab, where)

    R, one, Rp = "R", "1", "R'"
    if coupling == "xy":
        J = Poly.symbol("J")
        f_delta = {"xx": Poly(), "yy": Poly(), "zz": Poly(), "xy": Poly(),
                   "xz": -J * my, "yz": J * mx}
        f_Z = {
            "xx": 2 * J * (2 * mx * my * mz - mx * t("yz", one) - my * t("xz", R)),      # D8
            "yy": -2 * J * (2 * mx * my * mz - my * t("xz", one) - mx * t("yz", R)),     # D9
            "zz": -2 * J * (mx * t("yz", R) - my * t("xz", R)),                          # D10
            "xy": J * (2 * my * my * mz - 2 * mx * mx * mz - my * t("yz", one)           # D11
                       - my * t("yz", R) + mx * t("xz", one) + mx * t("xz", R)),
            "xz": J * (2 * mz * mz * my - mz * t("yz", one) - my * t("zz", R)            # D12
                       - mx * t("xy", R) + my * t("xx", R)),
            "yz": J * (-2 * mz * mz * mx + mz * t("xz", one) + mx * t("zz", R)           # D13
                       - mx * t("yy", R) + my * t("xy", R)),
        }
        f_sum = {
            "xx": -2 * J * mz * t("xy", Rp),
            "yy": 2 * J * mz * t("xy", Rp),
            "zz": -2 * J * (my * t("xz", Rp) - mx * t("yz", Rp)),
            "xy": -J * (mz * t("yy", Rp) - mz * t("xx", Rp)),
            "xz": -J * (mz * t("yz", Rp) + my * t("xx", Rp) - mx * t("xy", Rp)),
            "yz": J * (mz * t("xz", Rp) - my * t("xy", Rp) + mx * t("yy", Rp)),
        }
    else:
        J = Poly.symbol("J_z")
        f_delta = {"xx": Poly(), "yy": Poly(), "zz": Poly(), "xy": Poly(),
                   "xz": J * my, "yz": -J * mx}
        f_Z = {
            "xx": -2 * J * (2 * mx * my * mz - mx * t("yz", one) - mz * t("xy", R)),     # D16
            "yy": 2 * J * (2 * mx * my * mz - my * t("xz", one) - mz * t("xy", R)),      # D17
            "zz": Poly(),                                                                # D18
            "xy": J * (2 * mx * mx * mz - 2 * my * my * mz - mx * t("xz", one)           # D19
                       - mz * t("xx", R) + my * t("yz", one) + mz * t("yy", R)),
            "xz": -J * (2 * mz * mz * my - mz * t("yz", one) - mz * t("yz", R)),         # D20
            "yz": J * (2 * mz * mz * mx - mz * t("xz", one) - mz * t("xz", R)),          # D21
        }
        f_sum = {
            "xx": 2 * J * my * t("xz", Rp),
            "yy": -2 * J * mx * t("yz", Rp),
            "zz": Poly(),
            "xy": J * (my * t("yz", Rp) - mx * t("xz", Rp)),
            "xz": J * my * t("zz", Rp),
            "yz": -J * mx * t("zz", Rp),
        }
    return f_delta, f_Z, f_sum


@dataclass(frozen=True)
class Misprint:
    """One equation where the printed App. D differs from the derived one.

    Attributes
    ----------
    equation : str
        ``"mu_x"`` … or ``"theta_xz"`` ….
    part : str
        Which group differs: ``"mu"``, ``"local"`` (Π, Eq. D4), ``"g"`` (D14), ``"f"`` (D8–D13
        or D16–D21).
    case : str
        ``"far"`` (|R| ≥ 2), ``"nn"`` (|R| = 1) or ``"all"`` (μ equations).
    difference : Poly
        derived − printed (what must be added to the printed right-hand side).
    """

    equation: str
    part: str
    case: str
    difference: Poly


def misprints(coupling: str = "xy") -> list[Misprint]:
    r"""Where the printed equations (:func:`printed_equations`) differ from the derived ones.

    The local (Π) and dissipative (g) parts are compared as such; the coupling part
    :math:`f_{ab}` is compared as a whole at |R| ≥ 2 (``"far"``) and at |R| = 1 (``"nn"``,
    where ϑ(R) = ϑ(1), so only the sum of the δ- and [Z − δ]-terms is meaningful).
    """
    derived, printed = derived_equations(coupling), printed_equations(coupling)
    out = []
    for a in AXES:
        diff = derived.mu[a] - printed.mu[a]
        if diff:
            out.append(Misprint(f"mu_{a}", "mu", "all", diff))
    for ab in _PAIRS:
        for part in ("local", "g"):
            diff = getattr(derived, part)[ab] - getattr(printed, part)[ab]
            if diff:
                out.append(Misprint(f"theta_{ab}", part, "all", diff))
        for case in ("far", "nn"):
            diff = derived.coupling_part(ab, case) - printed.coupling_part(ab, case)
            if diff:
                out.append(Misprint(f"theta_{ab}", "f", case, diff))
    return out


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
    N = lattice.N
    mu = _real_array("mu", mu, (3,))
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
    N = lattice.N
    rho = np.asarray(rho, dtype=complex)
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


@dataclass(frozen=True)
class ClosureScan:
    r"""How well the closed equations reproduce the exact rates in states with pair
    correlations of strength ε (see :func:`closure_error_scan`).

    Attributes
    ----------
    epsilons : ndarray, shape (n,)
    error_mu : ndarray, shape (n,)
        :math:`\max_a|\partial_t\mu_a^{\rm closed} - \partial_t\mu_a^{\rm exact}|`.
    error_derived, error_printed : ndarray, shape (n,)
        :math:`\max_{ab,R}|\partial_t\eta_{ab}(R) - \partial_t\eta^{\rm exact}_{ab}(R)|` with
        the derived equations (:func:`mfqf_rhs_reference`) and with App. D as printed.
    change : ndarray, shape (n,)
        :math:`\max|\partial_t\eta^{\rm exact}(\epsilon) - \partial_t\eta^{\rm exact}(0)|`,
        the O(ε) signal the closure must get right.
    slope : float
        Fitted exponent of ``error_derived`` ∝ ε^slope (2 for a correct closure).
    converged : bool
        The exact states were translation invariant to 1e-12 and all numbers finite.
    message : str
    """

    epsilons: np.ndarray
    error_mu: np.ndarray
    error_derived: np.ndarray
    error_printed: np.ndarray
    change: np.ndarray
    slope: float
    converged: bool
    message: str


def closure_error_scan(model: Model, lattice: Lattice, epsilons, *, mu=(0.3, -0.2, -0.5),
                       seed: int = 0, scale: float = 0.05) -> ClosureScan:
    r"""The ε² test: closed vs exact rates in :func:`correlated_product_state` states.

    For each ε the exact μ, η and their rates come from the full Liouvillian
    (:func:`exact_rates`); the closed rates from :func:`mfqf_rhs_reference` (and from the
    printed App. D, :func:`printed_equations`) evaluated at the exact μ, η. Since ζ = O(ε²)
    the closed rates err at O(ε²); a wrong first-order term would show as O(ε) or O(1).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Small periodic chain/hypercubic lattice (N ≲ 9).
    epsilons : array_like, shape (n,)
        Positive correlation strengths.
    mu : array_like, shape (3,)
        Bloch vector of the product state.
    seed, scale
        For :func:`symmetric_pair_amplitudes`.
    """
    epsilons = np.asarray(epsilons, dtype=float)
    if epsilons.ndim != 1 or len(epsilons) < 2 or not (epsilons > 0).all():
        raise ValueError("epsilons must be at least two positive numbers")
    c = symmetric_pair_amplitudes(lattice, seed, scale)
    printed = printed_equations(model.coupling)
    base = exact_rates(model, lattice, correlated_product_state(lattice, mu, c, 0.0))
    rows, worst = [], 0.0
    for eps in epsilons:
        ex = exact_rates(model, lattice, correlated_product_state(lattice, mu, c, eps))
        worst = max(worst, ex.translation_error)
        dmu, deta = mfqf_rhs_reference(model, lattice, ex.mu, ex.eta)
        _, deta_printed = printed.evaluate(model, lattice, ex.mu, ex.eta)
        rows.append((np.abs(dmu - ex.dmu).max(), np.abs(deta - ex.deta).max(),
                     np.abs(deta_printed - ex.deta).max(), np.abs(ex.deta - base.deta).max()))
    err_mu, err_derived, err_printed, change = np.array(rows).T
    slope = float(np.polyfit(np.log(epsilons), np.log(err_derived), 1)[0])
    ok = worst < 1e-12 and np.isfinite(rows).all()
    message = ("ok" if ok else
               f"state not translation invariant ({worst:.1e}) or non-finite rates")
    return ClosureScan(epsilons, err_mu, err_derived, err_printed, change, slope, ok, message)


@dataclass(frozen=True)
class MagnetisationTrajectory:
    r"""μ(t) of a translation-invariant evolution from all spins down.

    Attributes
    ----------
    times : ndarray, shape (n_t,)
        [1/Γ].
    mu : ndarray, shape (n_t, 3)
        :math:`\vec\mu(t)` (exact: the site average of :math:`\langle\sigma^a_R\rangle`).
    converged : bool
        The integrator reached the final time with finite values and |μ| ≤ 1 + 1e-6.
    message : str
    """

    times: np.ndarray
    mu: np.ndarray
    converged: bool
    message: str


def _times(t_final, n_times) -> np.ndarray:
    if not (np.isfinite(t_final) and t_final > 0):
        raise ValueError(f"t_final must be a positive number, got {t_final!r}")
    if int(n_times) < 2:
        raise ValueError(f"n_times must be >= 2, got {n_times!r}")
    return np.linspace(0.0, float(t_final), int(n_times))


def _trajectory(times, mu, success, why) -> MagnetisationTrajectory:
    ok = bool(success) and np.isfinite(mu).all() and len(mu) == len(times)
    ok = ok and np.linalg.norm(mu, axis=1).max() <= 1 + 1e-6
    return MagnetisationTrajectory(times[:len(mu)], mu, ok, "ok" if ok else why)


def lindblad_evolution(model: Model, lattice: Lattice, t_final: float, n_times: int = 101,
                       *, rtol: float = 1e-6, atol: float = 1e-8) -> MagnetisationTrajectory:
    r"""Exact μ(t) from all spins down: :math:`\partial_t\rho = \mathcal L\rho` integrated by
    ``qutip.mesolve`` with :func:`ddlib.model.liouvillian` (4^N × 4^N; N ≲ 9).

    The reference the MFQF and MF dynamics are compared with on the same finite lattice.
    """
    import qutip

    _check_model_lattice(model, lattice)
    times = _times(t_final, n_times)
    N = lattice.N
    e_ops = [qutip.Qobj(sum(_string_matrix({s: a}, N) for s in range(N)) / N,
                        dims=[[2] * N, [2] * N]) for a in range(3)]
    down = qutip.tensor([qutip.basis(2, 1)] * N)
    result = qutip.mesolve(_liouvillian(model, lattice), down, times, e_ops=e_ops,
                           options={"rtol": rtol, "atol": atol, "progress_bar": False})
    mu = np.real(np.array(result.expect)).T
    return _trajectory(times, mu, True, "non-finite or unphysical magnetisation")


def reference_evolution(model: Model, lattice: Lattice, t_final: float, n_times: int = 101,
                        *, rtol: float = 1e-7, atol: float = 1e-9) -> MagnetisationTrajectory:
    r"""MFQF μ(t) from all spins down (μ = (0, 0, −1), η = 0), integrating
    :func:`mfqf_rhs_reference` with ``scipy.integrate.solve_ivp`` (DOP853).

    Slow (pure-Python right-hand side): a cross-check of :func:`ddlib.mfqf.evolve` on small
    lattices, not a production solver.
    """
    from scipy.integrate import solve_ivp

    _check_model_lattice(model, lattice)
    times = _times(t_final, n_times)
    shape = (3, 3, *lattice.shape)

    def f(t, y):
        dmu, deta = mfqf_rhs_reference(model, lattice, y[:3], y[3:].reshape(shape))
        return np.concatenate([dmu, deta.ravel()])

    y0 = np.concatenate([[0.0, 0.0, -1.0], np.zeros(int(np.prod(shape)))])
    sol = solve_ivp(f, (0.0, times[-1]), y0, t_eval=times, method="DOP853", rtol=rtol,
                    atol=atol)
    return _trajectory(times, sol.y[:3].T, sol.success, f"solve_ivp: {sol.message}")
