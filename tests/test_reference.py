"""The reference routes (ddlib.reference): the brute-force closed right-hand side against the
paper's Eqs. (4)-(6) and closed forms, and the exact route against the model's operators."""

import numpy as np
import pytest
from badinput import bad_input_test, case
from test_pauli import dense_string, random_density_matrix

from ddlib import Model, lattice, reference
from ddlib.model import collapse_operators, hamiltonian, single_spin_steady_state


def test_one_point_equations_are_eqs_4_to_6():
    """∂_t μ derived from 𝓛† equals Eqs. (4)–(6) of the paper (η(1) = ϑ(1) − μμ)."""
    rng = np.random.default_rng(3)
    lat = lattice.hypercubic(4, 2)
    for coupling, sign in (("xy", 1.0), ("ising", -1.0)):
        model = Model(Delta=1.4, Omega=0.5, J=0.75, Gamma=1.3, coupling=coupling)
        mu = rng.uniform(-0.5, 0.5, 3)
        eta = 0.05 * rng.normal(size=(3, 3, *lat.shape))
        eta = 0.5 * (eta + eta.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1].take(
            np.r_[-1, 0:3], axis=2).take(np.r_[-1, 0:3], axis=3))  # η_ab(R) = η_ba(−R)
        dmu, _ = reference.mfqf_rhs_reference(model, lat, mu, eta)
        nn = [(1, 0), (3, 0), (0, 1), (0, 3)]
        eta1 = np.mean([eta[(slice(None), slice(None), *R)] for R in nn], axis=0)
        JZ = sign * model.J * lat.Z  # App. B: Ising is J → −J_z
        mx, my, mz = mu
        G, D, W = model.Gamma, model.Delta, model.Omega
        paper = [-JZ * (my * mz + eta1[1, 2]) - D * my - G * mx / 2,
                 JZ * (mx * mz + eta1[0, 2]) - 2 * W * mz + D * mx - G * my / 2,
                 2 * W * my - G * (1 + mz)]
        np.testing.assert_allclose(dmu, paper, atol=1e-13)


def test_no_coupling_gives_the_single_spin_and_no_correlations():
    """J = 0: the single-spin steady state is a fixed point and η = 0 stays 0."""
    lat = lattice.chain(5)
    model = Model(Delta=0.9, Omega=0.8, J=0.0)
    dmu, deta = reference.mfqf_rhs_reference(model, lat, single_spin_steady_state(model),
                                      np.zeros((3, 3, 5)))
    np.testing.assert_allclose(dmu, 0, atol=1e-15)
    np.testing.assert_allclose(deta, 0, atol=1e-15)
    dmu, deta = reference.mfqf_rhs_reference(model, lat, [0.2, -0.1, 0.3], np.zeros((3, 3, 5)))
    assert np.abs(dmu).max() > 0.1
    np.testing.assert_allclose(deta, 0, atol=1e-15)


def test_dressed_state_has_order_eps_pairs_and_order_eps2_triples():
    """The premise of the ε² test: ρ is a state (Hermitian, positive, unit trace,
    translation invariant) whose connected two-point correlators are O(ε) and connected
    three-point correlators O(ε²)."""
    lat = lattice.chain(5)
    c = reference.symmetric_pair_amplitudes(lat, seed=2, scale=0.2)
    sizes = {}
    for eps in (0.01, 0.02):
        rho = reference.correlated_product_state(lat, [0.3, -0.2, -0.5], c, eps)
        np.testing.assert_allclose(rho, rho.conj().T, atol=1e-15)
        assert np.linalg.eigvalsh(rho).min() > -1e-14
        assert np.trace(rho).real == pytest.approx(1.0)

        def ev(factors, rho=rho):
            return np.trace(dense_string(factors, 5) @ rho).real

        mu = [[ev({s: a}) for a in range(3)] for s in range(5)]
        np.testing.assert_allclose(mu, [mu[0]] * 5, atol=1e-14)
        eta = max(abs(ev({0: a, 2: b}) - mu[0][a] * mu[2][b]) for a in range(3)
                  for b in range(3))
        zeta = 0.0
        for a in range(3):
            for b in range(3):
                for cc in range(3):
                    m0, m1, m3 = mu[0][a], mu[1][b], mu[3][cc]
                    closed = (m0 * ev({1: b, 3: cc}) + m1 * ev({0: a, 3: cc})
                              + m3 * ev({0: a, 1: b}) - 2 * m0 * m1 * m3)
                    zeta = max(zeta, abs(ev({0: a, 1: b, 3: cc}) - closed))
        sizes[eps] = eta, zeta
    (eta1, zeta1), (eta2, zeta2) = sizes[0.01], sizes[0.02]
    assert eta2 / eta1 == pytest.approx(2, rel=0.1)
    assert zeta2 / zeta1 == pytest.approx(4, rel=0.15)
    assert zeta1 > 0  # not trivially zero: the closure really is approximate


def test_exact_route_agrees_with_hamiltonian_and_jump_operators():
    """The Liouvillian used as 'exact' is −i[H, ρ] + Σ (LρL† − ½{L†L, ρ})."""
    lat = lattice.chain(3)
    model = Model(Delta=0.3, Omega=0.9, J=1.1)
    rho = random_density_matrix(np.random.default_rng(7), 8)
    H = hamiltonian(model, lat).full()
    drho = -1j * (H @ rho - rho @ H)
    for c in collapse_operators(model, lat):
        c = c.full()
        n = c.conj().T @ c
        drho += c @ rho @ c.conj().T - 0.5 * (n @ rho + rho @ n)
    exact = reference.exact_rates(model, lat, rho)
    np.testing.assert_allclose(exact.dmu, [np.trace(SIGMA_0(a) @ drho).real for a in range(3)],
                               atol=1e-13)


def SIGMA_0(a):
    return dense_string({0: a}, 3)


def test_uncoupled_dynamics_of_reference_mfqf_and_lindblad_agree():
    """J = 0: every route is one driven, decaying spin (η stays 0), relaxing to the closed
    form steady state."""
    model = Model(Delta=0.8, Omega=0.6, J=0.0)
    lat = lattice.chain(3)
    exact = reference.lindblad_evolution(model, lat, 15.0, 31, rtol=1e-9, atol=1e-11)
    mfqf = reference.reference_evolution(model, lat, 15.0, 31)
    assert exact.success and mfqf.success and exact.converged  # converged: the old name
    assert exact.model == model and mfqf.lattice == lat
    np.testing.assert_allclose(mfqf.mu, exact.mu, atol=1e-6)
    np.testing.assert_allclose(exact.mu[-1], single_spin_steady_state(model), atol=1e-4)


# ------------------------------------------------------------------------------- bad input

MODEL = Model(Delta=1.0, Omega=0.5, J=1.0)
RING = lattice.chain(5)
ETA = np.zeros((3, 3, 5))
BAD_INPUTS = [
    case(reference.mfqf_rhs_reference, MODEL, RING, [0, 0], ETA, param="mu"),
    case(reference.mfqf_rhs_reference, MODEL, RING, [0, 0, -1], np.zeros((3, 3, 4)),
         param="eta"),
    case(reference.mfqf_rhs_reference, MODEL, RING, [0, 0, -1], np.full((3, 3, 5), np.nan),
         param="eta"),
    case(reference.mfqf_rhs_reference, MODEL, lattice.chain(5, periodic=False), [0, 0, -1],
         ETA, param="lattice"),
    case(reference.mfqf_rhs_reference, "xy", RING, [0, 0, -1], ETA, param="model"),
    case(reference.correlated_product_state, RING, [1.0, 1.0, 0.0], ETA, 0.1, param="mu"),
    case(reference.reference_evolution, MODEL, RING, -1.0, param="t_final"),
    case(reference.mfqf_rhs_reference, MODEL, lattice.chain(600), [0, 0, -1],
         np.zeros((3, 3, 600)), param="lattice"),
    case(reference.symmetric_pair_amplitudes, lattice.fully_connected(4), param="lattice"),
    case(reference.symmetric_pair_amplitudes, RING, scale="big", param="scale"),
    case(reference.correlated_product_state, RING, [0, 0, -1], ETA, "eps", param="eps"),
    case(reference.correlated_product_state, lattice.chain(24), [0, 0, -1],
         np.zeros((3, 3, 24)), 0.1, param="lattice"),
    case(reference.exact_rates, MODEL, RING, np.eye(4), param="rho"),
    case(reference.exact_rates, MODEL, lattice.fully_connected(3), np.eye(8), param="lattice"),
    case(reference.lindblad_evolution, MODEL, RING, 1.0, n_times=1, param="n_times"),
    case(reference.lindblad_evolution, MODEL, RING, "long", param="t_final"),
    case(reference.lindblad_evolution, MODEL, lattice.chain(16), 1.0, param="lattice"),
    case(reference.lindblad_evolution, MODEL, RING, 1.0, rtol=0, param="rtol"),
    case(reference.reference_evolution, MODEL, RING, 1.0, n_times=2.5, param="n_times"),
    case(reference.reference_evolution, MODEL, lattice.chain(4, periodic=False), 1.0,
         param="lattice"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
