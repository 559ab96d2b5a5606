"""Mean field: fixed points, their stability, the bistable window, dynamics.

Each claim is checked by an independent route: the RHS is rebuilt here from the Heisenberg
equations of a single spin with the effective field written out by hand, stability against
time evolution from perturbed fixed points, J = 0 against the closed-form single spin, and the
MF Bloch equations against exact Lindblad dynamics of a fully connected pair in a product state
at t = 0 (where the exact derivative of ⟨σ⟩ is the MF one).
"""

import contextlib

import numpy as np
import pytest
import qutip
from badinput import bad_input_test, case, fresh
from systems import single_spin_rates

from ddlib import Model, lattice
from ddlib import meanfield as mf
from ddlib.model import collapse_operators, hamiltonian

PAPER = Model(Delta=1.6, Omega=0.5, J=1.0)  # JZ = 4 with Z = 4
Z2D = 4


def product_state(mu, N):
    rho1 = 0.5 * (qutip.qeye(2) + mu[0] * qutip.sigmax() + mu[1] * qutip.sigmay()
                  + mu[2] * qutip.sigmaz())
    return qutip.tensor([rho1] * N)


@pytest.mark.parametrize("coupling", ["xy", "ising"])
def test_rhs_is_exact_derivative_of_a_product_state(coupling):
    """At t = 0 from a product state, d⟨σ_0⟩/dt of the full Lindbladian equals the MF RHS
    (on a fully connected pair, Z = 1) — the MF equations hold exactly there."""
    model = Model(Delta=0.7, Omega=0.4, J=1.3, coupling=coupling)
    lat = lattice.fully_connected(2)
    mu = np.array([0.3, -0.2, -0.6])
    rho = product_state(mu, 2)
    L = qutip.liouvillian(hamiltonian(model, lat), collapse_operators(model, lat))
    drho = qutip.vector_to_operator(L * qutip.operator_to_vector(rho))
    ops = [qutip.tensor(s, qutip.qeye(2)) for s in (qutip.sigmax(), qutip.sigmay(),
                                                     qutip.sigmaz())]
    exact = np.array([qutip.expect(o, drho).real for o in ops])
    np.testing.assert_allclose(mf.rhs(mu, model, lat), exact, atol=1e-12)


@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("Delta", [0.0, 1.3, 1.6, 1.88, 3.0, -2.0])
def test_fixed_points_are_zeros_of_rhs_inside_bloch_ball(coupling, Delta):
    model = PAPER.replace(Delta=Delta, coupling=coupling, J=1.5)
    ss = mf.steady_states(model, Z2D)
    assert ss.converged, ss.message
    assert len(ss) in (1, 3)
    for p in ss:
        assert np.abs(mf.rhs(p.mu, model, Z2D)).max() < 1e-12
        assert np.linalg.norm(p.mu) <= 1 + 1e-12
        ev = np.linalg.eigvals(mf.jacobian(p.mu, model, Z2D))
        assert p.stable == bool(ev.real.max() < 0)
        assert p.kappa == pytest.approx(-ev.real.max(), abs=1e-12)


def test_jacobian_matches_finite_differences():
    model, mu, h = PAPER.replace(J=0.8), np.array([0.2, 0.4, -0.5]), 1e-6
    fd = np.column_stack([(mf.rhs(mu + h * e, model, Z2D) - mf.rhs(mu - h * e, model, Z2D))
                          / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(mf.jacobian(mu, model, Z2D), fd, atol=1e-8)


@pytest.mark.parametrize("Delta", [-1.0, 0.0, 0.4, 2.5])
@pytest.mark.parametrize("Gamma", [1.0, 0.3])
def test_uncoupled_spin_relaxes_at_the_bloch_rates(Delta, Gamma):
    """J = 0 (its μ is the closed form: tests/test_systems.py): one stable state, whose
    Jacobian's eigenvalues are the three non-zero eigenvalues of QuTiP's single-spin
    Liouvillian (rates Γ/2 and Γ mixed by Δ, Ω), and κ the slowest of them."""
    model = Model(Delta=Delta, Omega=0.7, J=0.0, Gamma=Gamma)
    ss = mf.steady_states(model, Z2D)
    assert len(ss) == 1 and ss[0].stable
    rates = single_spin_rates(model)
    distance = np.abs(np.asarray(ss[0].eigenvalues)[:, None] - rates[None, :])
    assert distance.min(axis=0).max() < 1e-10 and distance.min(axis=1).max() < 1e-10
    assert ss[0].kappa == pytest.approx(-rates.real.max(), abs=1e-10)


def test_stability_agrees_with_time_evolution():
    """Perturbed stable points relax back; the unstable one is left (to one of the others)."""
    ss = mf.steady_states(PAPER, Z2D)
    assert len(ss) == 3 and list(ss.stable) == [True, False, True]
    rng = np.random.default_rng(1)
    for p in ss:
        kick = 1e-3 * rng.standard_normal(3)
        traj = mf.evolve(PAPER, Z2D, 150.0, initial=p.mu * 0.999 + kick)
        assert traj.converged, traj.message
        end = traj.mu[-1]
        if p.stable:
            assert np.linalg.norm(end - p.mu) < 1e-6
        else:
            assert np.linalg.norm(end - p.mu) > 0.1
            others = [q.mu for q in ss if q.stable]
            assert min(np.linalg.norm(end - q) for q in others) < 1e-6


def test_kappa_is_the_decay_rate_of_a_perturbation():
    model = PAPER.replace(Delta=3.0)
    (p,) = mf.steady_states(model, Z2D)
    traj = mf.evolve(model, Z2D, 20.0, initial=p.mu + np.array([0.0, 0.0, -1e-4]))
    dist = np.linalg.norm(traj.mu - p.mu, axis=1)
    late = traj.times > 10
    rate = -np.polyfit(traj.times[late], np.log(dist[late]), 1)[0]
    assert rate == pytest.approx(p.kappa, rel=0.03)


def test_default_evolution_from_all_down_reaches_the_lower_delta_branch():
    """All spins down at Δ inside the window end on one of the two stable states."""
    traj = mf.evolve(PAPER, Z2D, 200.0)
    np.testing.assert_allclose(traj.mu[0], [0, 0, -1])
    ss = mf.steady_states(PAPER, Z2D)
    assert min(np.linalg.norm(traj.mu[-1] - q.mu) for q in ss if q.stable) < 1e-6


def test_paper_bistable_window():
    """Fig. 2a: for Ω = 0.5, JZ = 4 MF is bistable for 1.3 ≲ Δ ≲ 1.9."""
    w = mf.bistable_range(0.5, 4.0)
    assert 1.2 < w.lower < 1.35 and 1.85 < w.upper < 1.95
    for D in np.linspace(w.lower + 1e-3, w.upper - 1e-3, 7):
        assert mf.steady_states(PAPER.replace(Delta=D), Z2D).stable.sum() == 2
    for D in (w.lower - 1e-3, w.upper + 1e-3, 0.5, 4.0):
        assert mf.steady_states(PAPER.replace(Delta=D), Z2D).stable.sum() == 1


def test_window_edges_are_saddle_nodes_to_1e_6():
    """One fixed point 1e-6 outside each edge, three 1e-6 inside; at the edge the fold point
    has a zero eigenvalue and zero RHS."""
    w = mf.bistable_range(0.5, 4.0)
    for edge, inside in ((w.lower, +1), (w.upper, -1)):
        assert len(mf.steady_states(PAPER.replace(Delta=edge + inside * 1e-6), Z2D)) == 3
        assert len(mf.steady_states(PAPER.replace(Delta=edge - inside * 1e-6), Z2D)) == 1
    for edge, mu in ((w.lower, w.mu_lower), (w.upper, w.mu_upper)):
        m = PAPER.replace(Delta=edge)
        assert np.abs(mf.rhs(mu, m, Z2D)).max() < 1e-6
        assert np.abs(np.linalg.eigvals(mf.jacobian(mu, m, Z2D))).min() < 1e-5


def test_window_grows_with_coupling_and_edges_over_JZ():
    lower, upper = mf.bistable_edges(0.5, [1.0, 3.0, 4.0, 6.0])
    assert np.isnan(lower[0]) and np.isnan(upper[0])
    w4 = mf.bistable_range(0.5, 4.0)
    assert (lower[2], upper[2]) == pytest.approx((w4.lower, w4.upper))
    assert np.all(np.diff(upper[1:] - lower[1:]) > 0)


def test_response_curve_passes_through_all_fixed_points_and_folds():
    curve = mf.response_curve(PAPER, Z2D, bounds=(0.0, 4.0), n=20001)
    w = mf.bistable_range(0.5, 4.0)
    for D in (0.8, 1.6, 3.0):
        ss = mf.steady_states(PAPER.replace(Delta=D), Z2D)
        near = np.abs(curve.values - D) < 2e-3
        for p in ss:
            k = np.argmin(np.linalg.norm(curve.mu[near] - p.mu, axis=1))
            assert np.linalg.norm(curve.mu[near][k] - p.mu) < 5e-3
            assert curve.stable[near][k] == p.stable
    # the curve turns back exactly at the window edges, where κ → 0
    turning = np.diff(np.sign(np.diff(curve.values))) != 0
    np.testing.assert_allclose(np.sort(curve.values[1:-1][turning]), [w.lower, w.upper],
                               atol=1e-4)
    assert curve.kappa.min() < 1e-3


def test_ising_needs_strong_coupling_for_bistability_at_zero_detuning():
    """App. B: |J_z Z| > 2 is necessary for MF bistability at Δ = 0 (the Ω window appears at
    |J_z Z| = 3√3/2), and then the two stable states coexist over an Ω interval."""
    def window(JzZ):
        return mf.bistable_windows(Model(Delta=0.0, Omega=1.0, J=JzZ / 4, coupling="ising"),
                                   4, over="Omega")

    for JzZ in (-1.0, -2.0, 2.0, -2.5):
        assert window(JzZ) == ()
    # closed form (book/ising.md): bistable iff |J_z Z| > 3√3/2 ≈ 2.598
    threshold = 1.5 * np.sqrt(3)
    assert window(-(threshold - 1e-3)) == () and len(window(-(threshold + 1e-3))) == 1
    (w,) = window(-6.0)
    assert w.lower < 2.06 < 2.13 < w.upper  # contains the paper's MFQF window
    model = Model(Delta=0.0, Omega=0.5 * (w.lower + w.upper), J=-1.5, coupling="ising")
    assert mf.steady_states(model, 4).stable.sum() == 2
    # sign of J_z does not matter at Δ = 0 (μ_z enters as (g μ_z)²)
    (w_plus,) = window(6.0)
    assert (w_plus.lower, w_plus.upper) == pytest.approx((w.lower, w.upper))


def test_results_carry_model_and_lattice_and_trajectories_say_success():
    """One solver shape: Z may be a number or a lattice; results carry both (lattice None for
    a bare Z); a trajectory that reached t_final is ``success`` (``converged`` its alias)."""
    model = Model(Delta=1.6, Omega=0.5, J=1.0)
    ring = lattice.chain(8)
    traj = mf.evolve(model, ring, 5.0)
    assert traj.success and traj.converged and traj.model == model and traj.lattice == ring
    assert mf.evolve(model, 2, 5.0, options=None).lattice is None
    ss = mf.steady_states(model, ring)
    assert ss.model == model and ss.lattice == ring
    curve = mf.response_curve(model, ring)
    assert curve.model == model and curve.lattice == ring  # options of the wrong type: BAD_INPUTS


# ------------------------------------------------------------------------------- bad input

MF = Model(Delta=1.6, Omega=0.5, J=1.0)


def _mf_states():
    """MF's three fixed points at Z = 4, computed when the case runs (not at import)."""
    return contextlib.nullcontext(mf.steady_states(MF, 4))


BAD_INPUTS = [
    case(mf.effective_coupling, "model", 4, param="model"),
    case(mf.effective_coupling, MF, -1, param="Z"),
    case(mf.effective_coupling, MF, "four", param="Z"),
    case(mf.rhs, [0.0, 0.0], MF, 4, param="mu"),
    case(mf.rhs, ["x", 0.0, 0.0], MF, 4, param="mu"),
    case(mf.jacobian, [[0.0, 0.0]], MF, 4, param="mu"),
    case(mf.steady_states, MF, np.nan, param="Z"),
    case(mf.steady_states, None, 4, param="model"),
    case(mf.steady_states, MF, -1, param="Z"),
    case(mf.evolve, MF, 4, 1.0, initial=[1, 1, 1], param="initial"),
    case(mf.evolve, MF, 4, 1.0, initial=[0, 0], param="initial"),
    case(mf.bistable_range, np.inf, 4.0, param="Omega"),
    case(mf.SteadyStates.summary, fresh(_mf_states), param="index"),
    case(mf.SteadyStates.summary, fresh(_mf_states), index=7, param="index"),
    case(mf.bistable_windows, MF, 4, over="J", param="over"),
    case(mf.bistable_range, "0.5", 4.0, param="Omega"),
    case(mf.bistable_range, 0.5, np.inf, param="JZ"),
    case(mf.bistable_range, 0.5, 4.0, "heisenberg", param="coupling"),
    case(mf.bistable_edges, 0.5, [1.0, np.nan], param="JZ"),
    case(mf.bistable_edges, 0.5, [1.0], Gamma=0.0, param="Gamma"),
    case(mf.response_curve, MF, 4, bounds=(5.0, 0.0), param="bounds"),
    case(mf.response_curve, MF, 4, n=3, param="n"),
    case(mf.response_curve, MF, 4, over="J", param="over"),
    case(mf.evolve, MF, 4, -1.0, param="t_final"),
    case(mf.evolve, MF, 4, 1.0, [2.0, 0.0, 0.0], param="initial"),
    case(mf.evolve, MF, 4, 1.0, options={"n_times": 3}, param="options"),
    case(mf.EvolveOptions, n_times=1, param="n_times"),
    case(mf.EvolveOptions, method="euler", param="method"),
    case(mf.EvolveOptions, rtol=0.0, param="rtol"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
