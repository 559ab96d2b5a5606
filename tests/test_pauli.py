"""The Pauli-string algebra and the adjoint Lindbladian (ddlib.pauli), checked against dense
matrices and QuTiP's Liouvillian."""

import numpy as np
import pytest
import qutip
from badinput import bad_input_test, case

from ddlib import Model, lattice, pauli
from ddlib.model import hamiltonian, liouvillian
from ddlib.pauli import PauliSum

SIGMA = [qutip.sigmax().full(), qutip.sigmay().full(), qutip.sigmaz().full()]


def dense_string(factors, N):
    out = np.ones((1, 1))
    for s in range(N):
        out = np.kron(out, SIGMA[factors[s]] if s in factors else np.eye(2))
    return out


def random_paulisum(rng, N, n_terms=4):
    op = PauliSum()
    for _ in range(n_terms):
        sites = rng.choice(N, size=rng.integers(1, N + 1), replace=False)
        op = op + PauliSum.string([(int(s), int(rng.integers(3))) for s in sites],
                                  complex(rng.normal(), rng.normal()))
    return op


def random_density_matrix(rng, dim):
    A = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = A @ A.conj().T
    return rho / np.trace(rho)


def test_single_site_products_are_the_pauli_rule():
    for a in range(3):
        for b in range(3):
            prod = PauliSum.sigma(0, a) * PauliSum.sigma(0, b)
            np.testing.assert_allclose(prod.to_matrix(1), SIGMA[a] @ SIGMA[b], atol=1e-15)


def test_products_and_commutators_match_dense_matrices_on_three_sites():
    rng = np.random.default_rng(0)
    for _ in range(10):
        A, B = random_paulisum(rng, 3), random_paulisum(rng, 3)
        MA, MB = A.to_matrix(3), B.to_matrix(3)
        np.testing.assert_allclose((A * B).to_matrix(3), MA @ MB, atol=1e-12)
        np.testing.assert_allclose(pauli.commutator(A, B).to_matrix(3), MA @ MB - MB @ MA,
                                   atol=1e-12)
    np.testing.assert_allclose(PauliSum.string([(2, 0), (0, 2)]).to_matrix(3),
                               dense_string({0: 2, 2: 0}, 3))


def test_hamiltonian_is_the_model_hamiltonian():
    for coupling in ("xy", "ising"):
        model = Model(Delta=0.7, Omega=0.4, J=1.3, coupling=coupling)
        lat = lattice.chain(4)
        np.testing.assert_allclose(pauli.hamiltonian_paulis(model, lat).to_matrix(4),
                                   hamiltonian(model, lat).full(), atol=1e-12)


@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", [lattice.chain(3), lattice.chain(2, periodic=False)],
                         ids=["ring3", "open2"])
def test_adjoint_lindbladian_is_the_dual_of_qutips_liouvillian(coupling, lat):
    """tr(O 𝓛[ρ]) = tr(𝓛†[O] ρ) for random operators O and states ρ."""
    rng = np.random.default_rng(1)
    model = Model(Delta=1.1, Omega=0.6, J=0.8, Gamma=0.7, coupling=coupling)
    N = lat.N
    L = liouvillian(model, lat)
    dims = [[2] * N, [2] * N]
    for _ in range(5):
        rho = random_density_matrix(rng, 2**N)
        drho = qutip.vector_to_operator(
            L @ qutip.operator_to_vector(qutip.Qobj(rho, dims=dims))).full()
        O = random_paulisum(rng, N)
        LO = pauli.adjoint_lindbladian(model, lat, O)
        np.testing.assert_allclose(np.trace(LO.to_matrix(N) @ rho),
                                   np.trace(O.to_matrix(N) @ drho), atol=1e-11)


def test_adjoint_lindbladian_is_hermiticity_and_trace_preserving():
    model = Model(Delta=1.1, Omega=0.6, J=0.8)
    lat = lattice.chain(3)
    assert not pauli.adjoint_lindbladian(model, lat, PauliSum.identity()).terms  # L†[1] = 0
    O = PauliSum.string([(0, 0), (2, 1)])
    M = pauli.adjoint_lindbladian(model, lat, O).to_matrix(3)
    np.testing.assert_allclose(M, M.conj().T, atol=1e-14)


# ------------------------------------------------------------------------------- bad input

MODEL = Model(Delta=1.0, Omega=0.5, J=1.0)
RING = lattice.chain(5)
BAD_INPUTS = [
    case(PauliSum.string, [(0, 1), (0, 2)], param="factors"),  # two factors on one site
    case(pauli.adjoint_lindbladian, MODEL, RING, PauliSum.sigma(7, 0), param="op"),  # site 7 of 5
    case(PauliSum.sigma, 0, 3, param="a"),
    case(PauliSum.sigma, [0], 1, param="site"),
    case(PauliSum.string, [0, 1], param="factors"),
    case(PauliSum.sigma(3, 0).to_matrix, 2, param="n_sites"),
    case(PauliSum.sigma(0, 0).to_matrix, 40, param="n_sites"),
    case(pauli.commutator, 1.0, PauliSum(), param="A"),
    case(pauli.commutator, PauliSum(), "B", param="B"),
    case(pauli.hamiltonian_paulis, "model", RING, param="model"),
    case(pauli.hamiltonian_paulis, MODEL, "ring", param="lattice"),
    case(pauli.adjoint_lindbladian, MODEL, RING, "sigma_x", param="op"),
    case(pauli.adjoint_lindbladian, None, RING, PauliSum.sigma(0, 0), param="model"),
    case(pauli.closed_expectation, "op", len, len, param="op"),
    case(pauli.closed_expectation, PauliSum.sigma(0, 0), 0.5, len, param="one"),
    case(pauli.Poly.symbol, 3, param="name"),
    case(PauliSum.identity, "one", param="coeff"),
    case(PauliSum.sigma, 0, 1, coeff=None, param="coeff"),
    case(pauli.Poly.symbol("x").subs, [("x", 1.0)], param="values"),
    case(pauli.Poly.symbol("x").split, "x", param="predicate"),
    case(pauli.Poly, [(("x",), 1.0)], param="terms"),
    case(PauliSum, "sigma_x", param="terms"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
