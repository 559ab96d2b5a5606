"""The reference routes (ddlib.reference): the brute-force closed right-hand side against the
paper's Eqs. (4)-(6) and closed forms; the exact route against mean field (product states), a
master equation written out with dense matrices, and the MPO evolution (per site)."""

import numpy as np
import pytest
from badinput import bad_input_test, case
from test_pauli import dense_string

from ddlib import Model, lattice, meanfield, reference
from ddlib.model import single_spin_steady_state


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


def test_exact_rates_of_a_product_state_are_the_mean_field_equations():
    """In a product state every connected correlator vanishes, so η = 0 exactly and ∂_t μ is
    Eqs. (4)–(6) with η = 0, which ddlib.meanfield.rhs writes in closed form (XY and Ising)."""
    lat = lattice.chain(4)
    rho = reference.correlated_product_state(lat, [0.3, -0.2, -0.5], np.zeros((3, 3, 4)), 0.0)
    for coupling in ("xy", "ising"):
        model = Model(Delta=0.7, Omega=0.9, J=1.1, Gamma=1.3, coupling=coupling)
        exact = reference.exact_rates(model, lat, rho)
        np.testing.assert_allclose(exact.mu, [0.3, -0.2, -0.5], atol=1e-14)
        np.testing.assert_allclose(exact.eta, 0.0, atol=1e-14)
        np.testing.assert_allclose(exact.dmu, meanfield.rhs(exact.mu, model, lat), atol=1e-13)
        assert exact.translation_error < 1e-14


def _master_equation(model, N, bonds, rho):
    """ℒ[ρ] written out from the conventions (CONTRIBUTING): H = Σ (Δ/2 σᶻ + Ω σˣ) − (J/2)
    Σ_bonds (σˣσˣ + σʸσʸ) (XY), jump operators √Γ σ⁻ with σ⁻ = |↓⟩⟨↑| = (σˣ − iσʸ)/2."""
    H = sum(model.Delta / 2 * dense_string({s: 2}, N) + model.Omega * dense_string({s: 0}, N)
            for s in range(N))
    H = H - model.J / 2 * sum(dense_string({i: a, j: a}, N) for i, j in bonds for a in (0, 1))
    drho = -1j * (H @ rho - rho @ H)
    for s in range(N):
        c = np.sqrt(model.Gamma) * (dense_string({s: 0}, N) - 1j * dense_string({s: 1}, N)) / 2
        n = c.conj().T @ c
        drho += c @ rho @ c.conj().T - 0.5 * (n @ rho + rho @ n)
    return drho


def test_exact_rates_of_a_correlated_state_are_its_dense_traces():
    """At ε > 0 (η ≠ 0) the rates are tr(σ^a_R σ^b_0 ℒ[ρ]) − ∂_t(μ_a μ_b), with ℒ written out
    with dense matrices from the model's conventions (not ddlib.model's operators) and the
    displacement R indexing η as mfqf_rhs_reference does."""
    lat = lattice.chain(4)
    model = Model(Delta=0.3, Omega=0.9, J=1.1, Gamma=0.8)
    c = reference.symmetric_pair_amplitudes(lat, seed=4, scale=0.2)
    rho = reference.correlated_product_state(lat, [0.2, -0.3, -0.4], c, 0.1)
    exact = reference.exact_rates(model, lat, rho)
    drho = _master_equation(model, 4, lat.bonds, rho)

    def tr(factors, m):
        return np.trace(dense_string(factors, 4) @ m).real

    mu = np.array([tr({0: a}, rho) for a in range(3)])
    dmu = np.array([tr({0: a}, drho) for a in range(3)])
    np.testing.assert_allclose(exact.mu, mu, atol=1e-13)
    np.testing.assert_allclose(exact.dmu, dmu, atol=1e-12)
    for R in range(1, 4):
        for a in range(3):
            for b in range(3):
                assert exact.eta[a, b, R] == pytest.approx(
                    tr({R: a, 0: b}, rho) - mu[a] * mu[b], abs=1e-13)
                assert exact.deta[a, b, R] == pytest.approx(
                    tr({R: a, 0: b}, drho) - dmu[a] * mu[b] - mu[a] * dmu[b], abs=1e-12)
    assert np.abs(exact.eta).max() > 1e-2 and np.abs(exact.deta).max() > 1e-2  # not trivial


def test_lindblad_evolution_per_site_is_the_full_bond_dimension_mpo():
    """Site by site on an open chain, where the ends differ from the middle: exact μ_i(t)
    from QuTiP is the MPO evolution (Pauli-basis matrix product state, no truncation at
    χ = 16 for four sites, fourth-order Trotter), an independent route; ``mu`` is the site
    average, and the open chain's mirror symmetry holds."""
    from ddlib import mpo

    lat = lattice.chain(4, periodic=False)
    model = Model(Delta=1.5, Omega=0.5, J=1.0)
    exact = reference.lindblad_evolution(model, lat, 2.0, 21, rtol=1e-10, atol=1e-12)
    ev = mpo.evolve(model, lat, 16, 0.05, 2.0,
                    options=mpo.MPOOptions(cutoff=0.0, record_every=0.1))
    assert exact.success and exact.mu_sites.shape == (21, 4, 3)
    np.testing.assert_allclose(ev.times, exact.times, atol=1e-12)
    np.testing.assert_allclose(exact.mu_sites, ev.mu_sites, atol=1e-6)
    np.testing.assert_allclose(exact.mu, exact.mu_sites.mean(axis=1), atol=1e-15)
    np.testing.assert_allclose(exact.mu_sites, exact.mu_sites[:, ::-1], atol=1e-8)
    assert np.abs(exact.mu_sites[-1, 0] - exact.mu_sites[-1, 1]).max() > 1e-2


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
