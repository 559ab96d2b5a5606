r"""Pauli-string algebra: the adjoint Lindbladian of Eqs. (1)–(3) and the MFQF closure.

A small algebra of products of Pauli matrices on distinct sites (:class:`PauliSum`, with
coefficients that are numbers or polynomials in named symbols, :class:`Poly`) applies the
adjoint (Heisenberg-picture) Lindbladian

.. math::

    \mathcal L^\dagger[O] = i[H, O] + \Gamma\sum_R\Big(\sigma^+_R O\,\sigma^-_R
        - \tfrac12\{\sigma^+_R\sigma^-_R, O\}\Big),\qquad
    \partial_t\langle O\rangle = \langle\mathcal L^\dagger[O]\rangle,

using on one site :math:`\sigma^a\sigma^b = \delta_{ab} + i\epsilon_{abc}\sigma^c`. Applied to
:math:`\sigma^a_0` it gives the exact one-point equations (4)–(6); applied to
:math:`\sigma^a_R\sigma^b_0` it gives :math:`\partial_t\vartheta_{ab}(R)` (Eq. D4) in terms of
one-, two- and three-point expectation values. The MFQF closure
(:func:`closed_expectation`) sets the connected three-point correlator :math:`\zeta` of
Eq. (D3) to zero,

.. math::

    \langle ABC\rangle \to \langle A\rangle\langle BC\rangle + \langle B\rangle\langle AC\rangle
        + \langle C\rangle\langle AB\rangle - 2\langle A\rangle\langle B\rangle\langle C\rangle.

Users: :mod:`ddlib.reference` (the brute-force MFQF right-hand side the fast solver is tested
against) and :mod:`ddlib.paper.appendix_d` (App. D derived symbolically). The Hamiltonian and
jump operator come from :mod:`ddlib.model` (:func:`~ddlib.model.onsite_terms`,
:func:`~ddlib.model.bond_terms`, :data:`~ddlib.model.SIGMA_MINUS`).

Conventions: axes a ∈ (x, y, z) = (0, 1, 2); σ⁻ lowers, the decay drives spins to
μ = (0, 0, −1) (see :mod:`ddlib.model`); Γ = 1 unless the model says otherwise.

Examples
--------
:math:`[\sigma^x, \sigma^y] = 2i\sigma^z`. On an uncoupled, undriven pair
:math:`\mathcal L^\dagger[\sigma^z_0] = -\Gamma(1 + \sigma^z_0)`: pure decay towards |↓⟩.
With drive (Ω = ½) and hopping (J = 1) it is Eq. (6),
:math:`\partial_t\mu_z = 2\Omega\mu_y - \Gamma(1 + \mu_z)`, plus the spin current
:math:`J(\sigma^x_0\sigma^y_1 - \sigma^y_0\sigma^x_1)` that the hopping carries between the
sites; it cancels in the total :math:`\sigma^z_0 + \sigma^z_1`, which hopping conserves.

>>> from ddlib import Model, lattice
>>> from ddlib.pauli import PauliSum, adjoint_lindbladian, commutator
>>> X0, Y0, Z0, Z1 = (PauliSum.sigma(s, a) for s, a in ((0, 0), (0, 1), (0, 2), (1, 2)))
>>> commutator(X0, Y0)
(0+2j) Z0
>>> pair = lattice.fully_connected(2)
>>> adjoint_lindbladian(Model(Delta=1.0, Omega=0.0, J=0.0), pair, Z0)
-1 Z0 - 1
>>> driven = Model(Delta=1.0, Omega=0.5, J=1.0)
>>> adjoint_lindbladian(driven, pair, Z0)
1 Y0 - 1 Y0 X1 + 1 X0 Y1 - 1 Z0 - 1
>>> adjoint_lindbladian(driven, pair, Z0 + Z1)
1 Y0 + 1 Y1 - 1 Z0 - 2 - 1 Z1
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from numbers import Integral, Number
from types import SimpleNamespace

import numpy as np

from .lattice import Lattice, check_lattice
from .model import PAULI, SIGMA_MINUS, Model, bond_terms, check_model, onsite_terms

__all__ = ["AXES", "Poly", "PauliSum", "commutator", "hamiltonian_paulis",
           "adjoint_lindbladian", "closed_expectation"]

AXES = "xyz"
_LEVI = {(0, 1, 2): 1, (1, 2, 0): 1, (2, 0, 1): 1, (0, 2, 1): -1, (2, 1, 0): -1, (1, 0, 2): -1}


# --------------------------------------------------------------------------------------------
# Coefficients: numbers or polynomials in named symbols
# --------------------------------------------------------------------------------------------


def _check_terms(terms) -> None:
    if terms is not None and not isinstance(terms, dict | Mapping):
        raise TypeError(f"terms must be a mapping of term to coefficient, "
                        f"got {type(terms).__name__}")


class Poly:
    """A polynomial with complex coefficients in commuting named symbols.

    ``terms`` maps a monomial (sorted tuple of symbol names, repeated for powers) to its
    coefficient. Mixes with Python numbers in ``+``, ``-``, ``*``; used as the coefficient
    type when the algebra runs symbolically (:func:`derived_equations`).
    """

    __slots__ = ("terms",)

    def __init__(self, terms=None):
        _check_terms(terms)
        self.terms = {m: c for m, c in (terms or {}).items() if c != 0}

    @classmethod
    def symbol(cls, name: str) -> Poly:
        """The polynomial ``name`` (a symbol of coefficient 1)."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
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
        if not isinstance(values, dict):
            raise TypeError(f"values must be a dict of symbol name -> value, got "
                            f"{type(values).__name__}")
        out = Poly()
        for m, c in self.terms.items():
            term = Poly({(): c})
            for name in m:
                term = term * values.get(name, Poly.symbol(name))
            out = out + term
        return out

    def split(self, predicate) -> tuple[Poly, Poly]:
        """(terms whose monomial satisfies ``predicate``, the others)."""
        if not callable(predicate):
            raise TypeError(f"predicate must be callable, got {type(predicate).__name__}")
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
        _check_terms(terms)
        self.terms = {k: c for k, c in (terms or {}).items() if not _is_zero(c)}

    @classmethod
    def sigma(cls, site, a: int, coeff=1.0) -> PauliSum:
        """:math:`c\\,\\sigma^a_{site}`."""
        _check_factor(site, a)
        _check_coeff(coeff)
        return cls({((site, a),): coeff})

    @classmethod
    def string(cls, factors, coeff=1.0) -> PauliSum:
        """:math:`c\\prod\\sigma^{a}_{site}`, ``factors`` = [(site, a), ...] on distinct sites."""
        try:
            factors = [(s, a) for s, a in factors]
        except (TypeError, ValueError):
            raise ValueError(f"factors must be (site, a) pairs, got {factors!r}") from None
        for s, a in factors:
            _check_factor(s, a)
        _check_coeff(coeff)
        factors = sorted(factors, key=lambda f: f[0])
        if len({s for s, _ in factors}) != len(factors):
            raise ValueError(f"factors must sit on distinct sites, got {factors!r}")
        return cls({tuple(factors): coeff})

    @classmethod
    def identity(cls, coeff=1.0) -> PauliSum:
        """:math:`c\\,\\mathbb 1`."""
        _check_coeff(coeff)
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
        (QuTiP's ordering, as in :mod:`ddlib.model`). Numeric coefficients only; sites must
        be the integers 0 … n_sites − 1 (n_sites ≤ 14: a dense 2^n × 2^n matrix)."""
        if isinstance(n_sites, bool) or not isinstance(n_sites, Integral) \
                or not 1 <= n_sites <= 14:
            raise ValueError(f"n_sites must be an integer in 1 … 14, got {n_sites!r}")
        if any(not (isinstance(s, Integral) and 0 <= s < n_sites) for s in self.support):
            raise ValueError(f"n_sites = {n_sites} does not cover the sites "
                             f"{sorted(self.support)}")
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
    for name, op in (("A", A), ("B", B)):
        if not isinstance(op, PauliSum):
            raise TypeError(f"{name} must be a PauliSum, got {type(op).__name__}")
    return A * B - B * A


def _check_coeff(coeff) -> None:
    if isinstance(coeff, bool) or not isinstance(coeff, Number | Poly):
        raise TypeError(f"coeff must be a number or a Poly, got {coeff!r}")


def _check_factor(site, a) -> None:
    if a not in (0, 1, 2) or isinstance(a, bool):
        raise ValueError(f"a must be an axis 0, 1 or 2 (x, y, z), got {a!r}")
    try:
        hash(site)
        site < site  # noqa: B015 - sites must be sortable
    except TypeError:
        raise TypeError(f"site must be a sortable label, got {site!r}") from None


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

    Examples
    --------
    A pair, and the same matrix as QuTiP's Hamiltonian of :func:`ddlib.model.hamiltonian`:

    >>> import numpy as np
    >>> from ddlib import Model, lattice
    >>> from ddlib.model import hamiltonian
    >>> model, pair = Model(Delta=1.0, Omega=0.5, J=1.0), lattice.fully_connected(2)
    >>> H = hamiltonian_paulis(model, pair)
    >>> H
    0.5 X0 + 0.5 Z0 + 0.5 X1 + 0.5 Z1 - 0.5 X0 X1 - 0.5 Y0 Y1
    >>> bool(np.allclose(H.to_matrix(2), hamiltonian(model, pair).full()))
    True
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
    _check_model_lattice(model, lattice)
    if not isinstance(op, PauliSum):
        raise TypeError(f"op must be a PauliSum, got {type(op).__name__}")
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

    Returns
    -------
    number or Poly
        Of the type of the values ``one`` and ``two`` give (numbers or :class:`Poly`).

    Examples
    --------
    In a product state (every two-point value the product of one-point values) the closure
    is exact: :math:`\langle\sigma^x_0\sigma^x_1\sigma^x_2\rangle = \mu_x^3`.

    >>> mu = (0.5, 0.2, -0.8)
    >>> xxx = PauliSum.string([(0, 0), (1, 0), (2, 0)])
    >>> closed_expectation(xxx, lambda s, a: mu[a], lambda A, B: mu[A[1]] * mu[B[1]])
    0.125
    """
    if not isinstance(op, PauliSum):
        raise TypeError(f"op must be a PauliSum, got {type(op).__name__}")
    for name, f in (("one", one), ("two", two)):
        if not callable(f):
            raise TypeError(f"{name} must be callable, got {type(f).__name__}")
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


def _check_model_lattice(model, lattice):
    check_model(model)
    check_lattice(lattice)


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
