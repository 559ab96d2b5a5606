"""MFQF (ddlib.mfqf) checked against exact Lindblad dynamics, closed forms and itself."""

import dataclasses
import itertools
import json
from types import SimpleNamespace

import numpy as np
import pytest
from badinput import bad_input_test, case, check_rejects
from systems import free_rows, single_spin_rates

from ddlib import Model, lattice, mfqf
from ddlib.model import single_spin_steady_state
from ddlib.results import SteadySummary


@pytest.mark.slow
@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", [lattice.chain(7), lattice.hypercubic(3, 2)], ids=repr)
def test_kernel_matches_exact_lindblad_to_second_order(coupling, lat):
    """The closed equations differ from the exact ones only through the connected three-point
    correlators: O(ε²) for a product state correlated to O(ε)
    (``reference.correlated_product_state``), while η itself is O(ε). A wrong η-linear term
    would leave an O(ε) error. The exact rates are tr(O 𝓛[ρ]) of the full Liouvillian
    (``reference.exact_rates``)."""
    from ddlib import reference

    model = Model(Delta=0.7, Omega=0.45, J=0.8, coupling=coupling)
    # η ~ 2e-3 at ε = 0.01: the ratios below are within 2 % of 2 and 4
    c = reference.symmetric_pair_amplitudes(lat, seed=1, scale=0.1)
    off = np.ones(lat.shape, dtype=bool)
    off[(0,) * lat.dim] = False
    errors, sizes = [], []
    for eps in (0.01, 0.005):
        rho = reference.correlated_product_state(lat, [0.3, -0.2, -0.5], c, eps)
        ex = reference.exact_rates(model, lat, rho)
        dmu, deta = mfqf.rhs(model, lat, ex.mu, ex.eta)
        errors.append(max(np.abs(dmu - ex.dmu).max(),
                          np.abs((deta - ex.deta)[..., off]).max()))
        sizes.append(np.abs(ex.eta[..., off]).max())
    assert sizes[0] / sizes[1] == pytest.approx(2.0, rel=0.05)
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)
    assert errors[1] < 0.1 * sizes[1]


def _symmetrised(eta, dim):
    """η_ab(R) → symmetric in a, b and under R → −R, as a translation-invariant state has."""
    axes = tuple(range(2, 2 + dim))
    eta = 0.5 * (eta + np.roll(np.flip(eta, axis=axes), 1, axis=axes))
    return 0.5 * (eta + np.swapaxes(eta, 0, 1))


@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", [lattice.chain(6), lattice.hypercubic(4, 2),
                                 lattice.hypercubic(3, 3)], ids=repr)
def test_kernel_equals_brute_force_pauli_engine(coupling, lat):
    """The numba kernel reproduces the Pauli-string derivation (ddlib.reference) on random
    states."""
    from ddlib import reference

    rng = np.random.default_rng(7)
    model = Model(Delta=0.7, Omega=0.4, J=0.9, coupling=coupling)
    for _ in range(2):
        mu = rng.uniform(-0.5, 0.5, 3)
        eta = _symmetrised(0.2 * rng.normal(size=(3, 3, *lat.shape)), lat.dim)
        dmu_ref, deta_ref = reference.mfqf_rhs_reference(model, lat, mu, eta)
        dmu, deta = mfqf.rhs(model, lat, mu, eta)
        np.testing.assert_allclose(dmu, dmu_ref, atol=1e-13)
        np.testing.assert_allclose(deta, deta_ref, atol=1e-13)


@pytest.mark.parametrize("system", free_rows("mfqf"), ids=lambda s: s.name)
def test_uncoupled_spins_relax_to_the_single_spin_steady_state(system):
    """J = 0: every spin is the driven, damped single spin (the steady μ is checked against
    the closed form in tests/test_systems.py): the evolution reaches it too, correlations
    never build up, and the relaxation rate κ is the single-spin Liouvillian's gap."""
    model, lat = system.model, system.lattice
    res = mfqf.evolve(model, lat, 40.0 / model.Gamma)
    assert res.converged
    np.testing.assert_allclose(res.mu[-1], single_spin_steady_state(model), atol=1e-7)
    assert np.abs(res.eta).max() == 0.0
    ss = mfqf.steady_state(model, lat)
    assert ss.converged and ss.stable
    assert np.abs(ss.eta).max() < 1e-14
    assert ss.kappa == pytest.approx(-single_spin_rates(model).real.max(), rel=1e-6)


@pytest.mark.parametrize("model, lat", [
    (Model(Delta=1.5, Omega=0.5, J=1.0), lattice.hypercubic(10, 2)),
    (Model(Delta=0.0, Omega=1.0, J=-1.0, coupling="ising"), lattice.hypercubic(10, 2)),
    (Model(Delta=1.5, Omega=0.5, J=0.5), lattice.hypercubic(5, 4)),
], ids=["xy-2D", "ising-2D", "xy-4D"])
def test_steady_state_is_the_end_of_time_evolution(model, lat):
    """The Green's-function steady state has zero right-hand side and is where a long
    evolution from all spins down ends (JZ = 4 outside the bistable window; Ising J_zZ = −4,
    App. B; D = 4 as in the authors' follow-up work)."""
    ss = mfqf.steady_state(model, lat)
    assert ss.converged and ss.stable and ss.residual < 1e-10
    dmu, deta = mfqf.rhs(model, lat, ss.mu, ss.eta)
    assert np.abs(dmu).max() < 1e-10 and np.abs(deta).max() < 1e-10
    ev = mfqf.evolve(model, lat, 150.0, times=[0.0, 150.0])
    np.testing.assert_allclose(ev.mu[-1], ss.mu, atol=1e-8)
    np.testing.assert_allclose(ev.eta, ss.eta, atol=1e-8)
    assert np.abs(ss.eta).max() > 1e-2  # correlations matter here


@pytest.mark.parametrize("lat", [lattice.hypercubic(8, 2), lattice.hypercubic(6, 3)],
                         ids=repr)
def test_correlators_have_the_lattice_symmetries(lat):
    """η_ab = η_ba, η(R) = η(−R), invariant under permutations of the axes; η(0) = 0."""
    model = Model(Delta=1.2, Omega=0.5, J=4.0 / lat.Z)
    for state in (mfqf.steady_state(model, lat, options=mfqf.SteadyOptions(kappa=False)),
                  mfqf.evolve(model, lat, 5.0)):
        eta = state.eta
        axes = tuple(range(2, 2 + lat.dim))
        np.testing.assert_allclose(eta, np.swapaxes(eta, 0, 1), atol=1e-12)
        np.testing.assert_allclose(eta, np.roll(np.flip(eta, axis=axes), 1, axis=axes),
                                   atol=1e-12)
        for perm in itertools.permutations(axes):
            np.testing.assert_allclose(eta, eta.transpose(0, 1, *perm), atol=1e-12)
        assert np.all(eta[(slice(None), slice(None)) + (0,) * lat.dim] == 0)
        assert np.abs(eta).max() > 1e-3


def test_steady_state_converges_with_lattice_size():
    """Correlations decay exponentially: finite-size errors of a 2D lattice fall off fast in L
    (16², 32², 64²)."""
    model = Model(Delta=1.5, Omega=0.5, J=1.0)
    opts = mfqf.SteadyOptions(kappa=False)
    s16, s32, s64 = (mfqf.steady_state(model, lattice.hypercubic(L, 2), options=opts)
                     for L in (16, 32, 64))
    err16, err32 = (np.abs(s.mu - s64.mu).max() for s in (s16, s32))
    assert err32 < 1e-5 and err32 < 0.1 * err16
    np.testing.assert_allclose(s32.total_correlation, s64.total_correlation, atol=1e-4)
    assert s64.correlation_length[0, 0] > 0


def test_kappa_is_the_decay_rate_of_the_magnetisation():
    """κ from the Jacobian equals the rate of the paper's fit ∂_t μ² ~ e^{−κt} at late times."""
    model = Model(Delta=1.5, Omega=0.5, J=1.0)
    lat = lattice.hypercubic(12, 2)
    ss = mfqf.steady_state(model, lat)
    assert ss.stable and ss.kappa_imag == 0.0
    t = np.linspace(0.0, 80.0, 801)
    ev = mfqf.evolve(model, lat, 80.0, times=t, options=mfqf.EvolveOptions(rtol=1e-11,
                                                                         atol=1e-13))
    rate = np.gradient((ev.mu ** 2).sum(axis=1), t)
    late = (t > 40) & (t < 75)
    slope = np.polyfit(t[late], np.log(np.abs(rate[late])), 1)[0]
    assert -slope == pytest.approx(ss.kappa, rel=0.02)


def test_failures_are_flagged_not_returned_as_data():
    lat = lattice.chain(20)
    model = Model(Delta=0.5, Omega=1.0, J=4.0)
    eta = np.zeros((3, 3, 20))
    eta[:, :, 1] = eta[:, :, -1] = 0.9  # not a state: correlations of unpolarised spins
    run = mfqf.evolve(model, lat, 30.0, ((0.0, 0.0, 0.0), eta))
    assert not run.converged and "blow-up" in run.message
    assert np.all(np.linalg.norm(run.mu, axis=1) <= 1.0 + 1e-6)
    strict = mfqf.steady_state(model, lat, options=mfqf.SteadyOptions(residual_tol=0.0))
    assert not strict.converged and "residual" in strict.message and strict.stable is None


@pytest.mark.slow
def test_one_dimension_crosses_over_smoothly():
    """Fig. 2a: in 1D (Ω = 0.5, JZ = 4) MFQF follows one stable branch, μ_x going from
    positive to negative across 1.5 ≲ Δ ≲ 5; sweeping up and down gives one curve (no
    hysteresis), the state reached from all spins down. Its relaxation slows down at the
    crossover's centre (κ ≈ 0.004 at Δ ≈ 2.5), next to which an unstable fixed point lies."""
    model = Model(Delta=1.0, Omega=0.5, J=2.0)
    lat = lattice.chain(100)
    deltas = np.linspace(1.0, 5.0, 9)
    up = mfqf.continuation(model, lat, "Delta", deltas)
    down = mfqf.continuation(model, lat, "Delta", deltas[::-1])
    assert up.converged and down.converged
    assert all(up.stable) and all(down.stable)
    np.testing.assert_allclose(up.mu, down.mu[::-1], atol=1e-7)
    cold = mfqf.steady_state(model.replace(Delta=2.5), lat)
    np.testing.assert_allclose(cold.mu, up.mu[3], atol=1e-7)
    assert 0 < cold.kappa < 0.01
    assert up.mu[0, 0] > 0.2 and up.mu[-1, 0] < -0.2
    assert np.all(np.diff(up.mu[1:7, 0]) < 0)  # decreasing through the crossover


@pytest.mark.slow
def test_two_dimensions_have_two_stable_branches():
    """Fig. 3a: in 2D (Ω = 0.5, JZ = 4) a sweep up and a sweep down in Δ stay on different
    branches (hysteresis); arclength continuation joins them through an unstable branch."""
    model = Model(Delta=1.0, Omega=0.5, J=1.0)
    lat = lattice.hypercubic(16, 2)
    opts = mfqf.SteadyOptions(kappa=False)
    up = mfqf.continuation(model, lat, "Delta", np.linspace(1.8, 2.3, 6), options=opts)
    down = mfqf.continuation(model, lat, "Delta", np.linspace(2.3, 1.8, 6), options=opts)
    gap = np.abs(up.mu[:, 0] - down.mu[::-1, 0])
    assert gap.max() > 0.1  # two distinct stable states at the same Δ
    path = mfqf.continuation(model, lat, "Delta", np.linspace(1.9, 2.4, 11),
                             method="arclength")
    assert path.converged
    stable = np.array(path.stable, dtype=bool)
    assert (~stable).sum() >= 2 and stable[0] and stable[-1]
    turns = np.flatnonzero(np.diff(np.sign(np.diff(path.values))))
    assert len(turns) == 2  # the two saddle-node folds
    for p in path.points:
        assert np.abs(mfqf.rhs(p.model, lat, p.mu, p.eta)[0]).max() < 1e-9


@pytest.fixture(scope="module")
def fold_path_2d():
    """Arclength path through the 2D bistable window (Ω = 0.5, JZ = 4, 16²), both folds."""
    lat = lattice.hypercubic(16, 2)
    return mfqf.continuation(Model(Delta=1.9, Omega=0.5, J=1.0), lat, "Delta",
                             np.linspace(1.9, 2.4, 26), method="arclength")


def test_require_stable_rejects_the_unstable_root(fold_path_2d):
    """A warm start from the unstable (middle) branch: the plain root search converges to the
    unstable fixed point next to it; require_stable instead relaxes in time and returns the
    stable state the dynamics reaches (checked against a long evolution from the same start)."""
    lat = fold_path_2d.points[0].lattice
    kappas = np.array([p.kappa for p in fold_path_2d.points])
    unstable = fold_path_2d.points[int(kappas.argmin())]
    assert unstable.kappa < -0.1
    model = unstable.model.replace(Delta=unstable.model.Delta - 0.02)
    plain = mfqf.steady_state(model, lat, unstable)
    assert plain.converged and plain.stable is False
    strict = mfqf.steady_state(model, lat, unstable,
                               options=mfqf.SteadyOptions(require_stable=True))
    assert strict.converged and strict.stable and strict.kappa > 0
    assert np.abs(strict.mu - plain.mu).max() > 1e-2  # a different fixed point
    late = mfqf.evolve(model, lat, 1000.0, (unstable.mu, unstable.eta), times=[0.0, 1000.0])
    np.testing.assert_allclose(late.mu[-1], strict.mu, atol=1e-7)


def test_require_stable_reports_when_no_stable_state_is_reached(fold_path_2d):
    """Sitting exactly on an unstable fixed point, a (too) short relaxation cannot leave it:
    the result is flagged not converged, with the reason, instead of returned as the branch."""
    kappas = np.array([p.kappa for p in fold_path_2d.points])
    unstable = fold_path_2d.points[int(kappas.argmin())]
    res = mfqf.steady_state(unstable.model, unstable.lattice, unstable,
                            options=mfqf.SteadyOptions(require_stable=True, t_pre=1e-3))
    assert not res.converged and res.stable is False
    assert "no stable fixed point" in res.message and "unstable" in res.message
    with pytest.raises(ValueError, match="require_stable"):
        mfqf.SteadyOptions(require_stable=True, kappa=False)


@pytest.mark.slow
def test_a_warm_start_next_to_the_fold_stays_on_its_branch():
    """A sweep step along the stable low-Δ branch towards its upper end (60², Ω = 0.5,
    JZ = 4; the branch ends near Δ ≈ 2.22): there the reduced μ problem has further roots
    close by, whose slaved correlators grow. A plain root search from the warm start lands
    on one of them (unstable, κ < 0); steady_state follows the warm start's own branch to the
    stable state (κ > 0)."""
    from ddlib.mfqf.steady import _fixed_point, _Problem, _result

    lat = lattice.hypercubic(60, 2)
    warm = mfqf.steady_state(Model(Delta=2.15, Omega=0.5, J=1.0), lat)
    assert warm.converged and warm.stable and warm.mu[0] > 0.1  # the low-Δ branch
    model = warm.model.replace(Delta=2.2)
    ss = mfqf.steady_state(model, lat, warm)
    assert ss.converged and ss.stable and 0 < ss.kappa < 0.02  # slow: next to the end
    assert np.abs(ss.mu - warm.mu).max() < 0.01
    prob = _Problem.of(model, lat, mfqf.SteadyOptions())
    plain = _result(prob, *_fixed_point(prob, warm.mu))
    assert plain.converged and plain.stable is False
    assert np.abs(plain.mu - ss.mu).max() > 1e-3
    # the summary of the warm start (what a sweep keeps on disk, read back from JSON) is
    # followed alike
    kept = SteadySummary.from_dict(json.loads(json.dumps(warm.summary().to_dict())))
    again = mfqf.steady_state(model, lat, kept, options=mfqf.SteadyOptions(kappa=False))
    np.testing.assert_allclose(again.mu, ss.mu, atol=1e-10)


def test_a_warm_start_past_the_end_of_its_branch_relaxes_to_the_dynamical_state():
    """From the low-Δ state at Δ = 1 straight to Δ = 3 (20², JZ = 4), beyond the end of that
    branch: no root is found along it, so the state relaxes in time from the warm start, to
    the single stable state there (the one reached from all spins down)."""
    lat = lattice.hypercubic(20, 2)
    warm = mfqf.steady_state(Model(Delta=1.0, Omega=0.5, J=1.0), lat)
    jump = mfqf.steady_state(warm.model.replace(Delta=3.0), lat, warm)
    cold = mfqf.steady_state(warm.model.replace(Delta=3.0), lat)
    assert jump.converged and jump.stable and cold.stable
    np.testing.assert_allclose(jump.mu, cold.mu, atol=1e-9)
    assert np.abs(jump.mu - warm.mu).max() > 0.3


def test_resolvent_by_eigendecomposition_equals_the_direct_inverse():
    """The Green's-function sums Σ_k c_k (K_A + t_k K_Q)⁻¹ through the eigen-decomposition of
    K_A⁻¹K_Q equal batched direct inverses; a singular K_A falls back to the latter."""
    from ddlib.mfqf.equations import _coefficients, _constants
    from ddlib.mfqf.green import _lyapunov, _Resolvent

    rng = np.random.default_rng(7)
    A, Q, *_ = _coefficients(np.array([0.3, 0.2, -0.7]), _constants(
        Model(Delta=1.7, Omega=0.5, J=1.0)), 4)
    t, C, h = rng.uniform(-4, 4, 40), rng.normal(size=(3, 40)), rng.normal(size=(6, 40))
    for KA, KQ, eigen in ((_lyapunov(A), _lyapunov(Q), True),
                          (np.zeros((6, 6)), np.eye(6) + 0.1 * rng.normal(size=(6, 6)), False)):
        res = _Resolvent(KA, KQ)
        assert res.direct is not eigen
        Kinv = np.linalg.inv(KA[None] + t[:, None, None] * KQ[None])
        np.testing.assert_allclose(res.sums(t, C), np.einsum("nk,kij->nij", C, Kinv),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.apply(t, h), np.einsum("kij,jk->ik", Kinv, h),
                                   rtol=1e-9, atol=1e-12)


def _sector_jacobian(lat, mu=None, scale=1.0):
    """The symmetric-sector product of a steady state on ``lat`` (or of μ = ``mu`` with its
    correlators times ``scale``: any state, not only fixed points), with its dense matrix."""
    from ddlib.mfqf.equations import _constants, _geometry, _pack
    from ddlib.mfqf.stability import _orbit_jvp

    model = Model(Delta=1.7, Omega=0.5, J=4.0 / lat.Z)
    ss = mfqf.steady_state(model, lat, options=mfqf.SteadyOptions(kappa=False))
    mu = ss.mu if mu is None else mu
    geo, const = _geometry(lat), _constants(model)
    jvp, orb, origin = _orbit_jvp(mu, scale * _pack(ss.eta), geo, const)
    dense = np.column_stack([jvp(e) for e in np.eye(3 + 6 * orb.N)])
    return jvp, dense, (mu, geo, orb, const, scale * _pack(ss.eta), origin)


SECTOR_LATTICES = [lattice.hypercubic(12, 2), lattice.hypercubic(13, 2),
                   lattice.hypercubic(6, 3), lattice.hypercubic(7, 3), lattice.chain(15),
                   lattice.chain(16)]


@pytest.mark.parametrize("lat", SECTOR_LATTICES[::2], ids=str)
def test_jacobian_products_equal_central_differences_of_the_right_hand_side(lat):
    """The products (η part exact, μ columns by differences) against central differences of
    the whole right-hand side on the orbits, along random directions."""
    from ddlib.mfqf.equations import _orbit_tables, _rhs_flat

    jvp, _, (mu, geo, orb, const, x, origin) = _sector_jacobian(lat)
    y0 = np.concatenate([mu, x[:, geo.rep].ravel()])
    rng = np.random.default_rng(5)
    for _ in range(3):
        u = rng.normal(size=y0.size)
        u[origin] = 0.0
        h = 1e-6 / np.linalg.norm(u)
        orb = _orbit_tables(geo)
        fd = (_rhs_flat(y0 + h * u, orb, const) - _rhs_flat(y0 - h * u, orb, const)) / (2 * h)
        np.testing.assert_allclose(jvp(u), fd, atol=1e-9 * np.abs(fd).max())


@pytest.mark.parametrize("lat", SECTOR_LATTICES, ids=str)
def test_structured_shift_invert_solve_equals_a_dense_solve(lat):
    """The solve behind shift-invert (bulk operator in cosine space, rank-15 update; even
    and odd L, 1D to 3D) against numpy's dense solve with the assembled Jacobian."""
    from ddlib.mfqf.stability import _ShiftInvert

    jvp, dense, (mu, geo, orb, const, _, _) = _sector_jacobian(lat)
    b = np.random.default_rng(2).normal(size=dense.shape[0])
    direct = np.linalg.solve(dense, b)
    np.testing.assert_allclose(_ShiftInvert(jvp, mu, geo, orb, const).solve(b), direct,
                               atol=1e-11 * np.abs(direct).max())


@pytest.mark.parametrize("lat", SECTOR_LATTICES[2:5], ids=str)
def test_determinant_sign_counts_positive_real_eigenvalues(lat):
    """sign det(−𝒥) from the bulk product and the capacitance matrix says whether an odd
    number of real eigenvalues are positive: at states away from the fixed point (random μ,
    scaled correlators), stable and unstable, against the dense eigenvalues."""
    from ddlib.mfqf.stability import _ShiftInvert

    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(16):
        mu, scale = rng.uniform(-0.8, 0.8, 3), rng.uniform(0.0, 2.0)
        jvp, dense, (mu, geo, orb, const, _, _) = _sector_jacobian(lat, mu, scale)
        ev = np.linalg.eigvals(dense)
        positive = int(np.sum((np.abs(ev.imag) < 1e-12) & (ev.real > 0)))
        assert _ShiftInvert(jvp, mu, geo, orb, const).odd_positive == (positive % 2 == 1)
        seen.add(positive % 2)
    assert seen == {0, 1}


def test_kappa_by_shift_invert_near_a_branch_end(monkeypatch):
    """Near the end of the stable 2D branch (40², Δ = 2.2, κ ≈ 0.01) the rightmost eigenvalue
    sits in a cluster of slow modes; the shift-invert route (forced here) gives the same κ
    as dense diagonalisation of the symmetric-sector Jacobian."""
    from ddlib.mfqf import stability
    from ddlib.mfqf.equations import _constants, _geometry, _pack
    from ddlib.mfqf.stability import _orbit_jvp

    lat = lattice.hypercubic(40, 2)
    opts = mfqf.SteadyOptions(kappa=False)
    warm = mfqf.steady_state(Model(Delta=2.1, Omega=0.5, J=1.0), lat, options=opts)
    ss = mfqf.steady_state(warm.model.replace(Delta=2.2), lat, warm, options=opts)
    geo, const = _geometry(lat), _constants(ss.model)
    jvp, orb, origin = _orbit_jvp(ss.mu, _pack(ss.eta), geo, const)
    n = 3 + 6 * orb.N
    keep = np.setdiff1d(np.arange(n), origin)
    ev = np.linalg.eigvals(np.column_stack([jvp(e) for e in np.eye(n)])[np.ix_(keep, keep)])
    monkeypatch.setattr(stability, "_LR_RESTARTS", 1)
    fast = stability._jacobian_spectrum(ss.mu, _pack(ss.eta), geo, const, 1e-9)
    assert 0 < -ev.real.max() < 0.05
    assert fast[0] == pytest.approx(ev[ev.real.argmax()], abs=1e-8)


def test_natural_continuation_follows_stable_branches_only(fold_path_2d):
    """Sweeping Δ up through the upper fold: every point is a stable fixed point (the branch
    ends at the fold and the sweep jumps to the other one)."""
    lat = fold_path_2d.points[0].lattice
    up = mfqf.continuation(Model(Delta=2.15, Omega=0.5, J=1.0), lat, "Delta",
                           np.linspace(2.15, 2.3, 6))
    assert up.converged and all(s is True for s in up.stable)
    jump = np.abs(np.diff(up.mu[:, 0]))
    assert jump.max() > 0.1  # the jump past the fold (~2.235 on 16²)


def test_physical_states_are_flagged_physical():
    ss = mfqf.steady_state(Model(Delta=1.5, Omega=0.5, J=1.0), lattice.hypercubic(8, 2),
                           options=mfqf.SteadyOptions(kappa=False))
    assert ss.converged and ss.physical and "unphysical" not in ss.message


def test_correlators_beyond_one_are_flagged_unphysical():
    """Strong antiferro-like XY coupling in 1D (J = −4, Δ = 5, Ω = 3): the closed equations
    have a fixed point whose ⟨σ^a_R σ^b_0⟩ = η_ab(R) + μ_aμ_b exceeds 1 in modulus — a fixed
    point of MFQF, but no quantum state: converged, physical=False, said in the message."""
    lat = lattice.chain(20)
    ss = mfqf.steady_state(Model(Delta=5.0, Omega=3.0, J=-4.0), lat,
                           options=mfqf.SteadyOptions(kappa=False))
    theta = ss.eta + np.multiply.outer(ss.mu, ss.mu)[..., None]
    assert np.abs(theta[..., 1:]).max() > 1.1 and np.linalg.norm(ss.mu) <= 1
    assert ss.converged and ss.residual < 1e-8
    assert ss.physical is False and "physical=False" in ss.message


def test_a_root_outside_the_bloch_ball_is_flagged_unphysical():
    """The reduced μ equations also have roots with |μ| > 1; a root search started far
    outside the Bloch ball finds one: not converged and physical=False."""
    import dataclasses

    lat = lattice.hypercubic(8, 2)
    model = Model(Delta=1.5, Omega=0.5, J=1.0)
    opts = mfqf.SteadyOptions(kappa=False)
    good = mfqf.steady_state(model, lat, options=opts)
    outside = dataclasses.replace(good, mu=np.array([2.608, 1.894, -1.407]))
    bad = mfqf.steady_state(model, lat, outside, options=opts)
    assert np.linalg.norm(bad.mu) > 1.05 and bad.residual < 1e-10  # a genuine root
    assert not bad.converged and bad.physical is False
    assert "|mu|" in bad.message and "physical=False" in bad.message


@pytest.mark.parametrize("lat", [lattice.chain(9), lattice.hypercubic(6, 2),
                                 lattice.hypercubic(5, 3)], ids=repr)
def test_symmetric_sector_rhs_equals_the_full_lattice_rhs(lat):
    """κ is computed on the lattice-symmetric sector (one value per orbit of R): for a
    symmetric state its right-hand side must be the full lattice's, orbit by orbit."""
    from ddlib.mfqf.equations import _PAIR, _constants, _geometry, _orbit_tables, _pack, _rhs_flat

    geo = _geometry(lat)
    const = _constants(Model(Delta=0.7, Omega=0.4, J=0.9))
    x = np.random.default_rng(3).normal(size=(6, geo.rep.size))[:, geo.orbit]
    x[:, 0] = 0.0
    eta = _symmetrised(x[_PAIR].reshape(3, 3, *lat.shape), lat.dim)
    for perm in itertools.permutations(range(2, 2 + lat.dim)):
        assert np.allclose(eta, eta.transpose(0, 1, *perm))  # point-group symmetric
    mu = np.array([0.2, -0.3, -0.6])
    full = _rhs_flat(np.concatenate([mu, _pack(eta).ravel()]), geo, const)
    orb = _rhs_flat(np.concatenate([mu, _pack(eta)[:, geo.rep].ravel()]), _orbit_tables(geo),
                    const)
    np.testing.assert_allclose(orb[:3], full[:3], atol=1e-14)
    np.testing.assert_allclose(orb[3:].reshape(6, -1),
                               full[3:].reshape(6, -1)[:, geo.rep], atol=1e-14)


@pytest.mark.parametrize("lat", [lattice.chain(10), lattice.hypercubic(8, 2),
                                 lattice.hypercubic(6, 3)], ids=repr)
def test_time_evolution_on_the_symmetric_sector_is_the_full_lattice_evolution(lat):
    """A point-symmetric state stays symmetric, so evolve integrates one value per orbit of R:
    from all spins down, and from a steady state at a neighbouring Δ (a warm relaxation as a
    sweep makes), μ(t), η_nn(t) and the final η field agree with the integration of every
    site to the integrators' tolerance (rtol 1e-8)."""
    model = Model(Delta=1.9, Omega=0.5, J=4.0 / lat.Z)
    near = mfqf.steady_state(dataclasses.replace(model, Delta=2.1), lat)
    for start in (None, near):
        runs = [mfqf.evolve(model, lat, 15.0, start, options=mfqf.EvolveOptions(
            symmetric=sym, n_times=4)) for sym in (True, False)]
        assert all(r.success for r in runs)
        a, b = runs
        assert np.abs(a.mu - b.mu).max() < 1e-7
        assert np.abs(a.eta_nn - b.eta_nn).max() < 1e-7
        assert np.abs(a.eta - b.eta).max() < 1e-7
        assert np.abs(a.mu[-1] - a.mu[0]).max() > 1e-3  # it did move


def test_an_asymmetric_start_is_evolved_on_every_site():
    """η that breaks the lattice symmetry is not projected onto the symmetric sector: the
    evolution equals the all-site one exactly, and the asymmetry is still there at the end."""
    lat = lattice.hypercubic(6, 2)
    eta = np.zeros((3, 3, 6, 6))
    eta[0, 0, 1, 0] = eta[0, 0, 5, 0] = 0.05  # along x only, not along y
    start = (np.array([0.1, 0.2, -0.8]), eta)
    model = Model(Delta=1.0, Omega=0.5, J=0.5)
    a, b = (mfqf.evolve(model, lat, 2.0, start, options=mfqf.EvolveOptions(symmetric=sym))
            for sym in (True, False))
    np.testing.assert_array_equal(a.mu, b.mu)
    np.testing.assert_array_equal(a.eta, b.eta)
    assert abs(a.eta[0, 0, 1, 0] - a.eta[0, 0, 0, 1]) > 1e-3


def test_a_summary_read_back_from_json_warm_starts_onto_the_same_stable_branch():
    """The warm-start contract: a sweep step next to the upper end of the stable low-Δ branch
    (16², Ω = 0.5, JZ = 4, Δ 2.15 → 2.21, the fold near 2.235) from the full result and from
    its SteadySummary after a JSON round trip reach the same stable state on that branch,
    which differs from the state reached from all spins down."""
    lat = lattice.hypercubic(16, 2)
    warm = mfqf.steady_state(Model(Delta=2.15, Omega=0.5, J=1.0), lat)
    assert warm.converged and warm.stable and warm.mu[0] > 0.1  # the low-Δ branch
    kept = SteadySummary.from_dict(json.loads(json.dumps(warm.summary().to_dict(),
                                                         allow_nan=False)))
    assert kept == warm.summary() and kept.solver == "mfqf"
    model = warm.model.replace(Delta=2.21)
    full = mfqf.steady_state(model, lat, warm)
    slim = mfqf.steady_state(model, lat, kept)
    assert full.converged and full.stable and slim.converged and slim.stable
    np.testing.assert_allclose(slim.mu, full.mu, atol=1e-10)
    assert np.abs(full.mu - warm.mu).max() < 0.05  # stayed on the branch


@pytest.mark.parametrize("initial", [SimpleNamespace(mu=(0.1, 0.2, -0.9),
                                                     model=Model(Delta=1.0, Omega=0.5, J=1.0)),
                                     {"mu": (0.0, 0.0, -1.0)}, np.array([0.0, 0.0, -1.0])],
                         ids=["duck", "dict", "array"])
def test_duck_typed_warm_starts_are_refused(initial):
    """Only a SteadySummary or an MFQF result warm-starts; a record that merely has .mu and
    .model (which used to be followed silently) is refused before any work."""
    model, lat = Model(Delta=1.5, Omega=0.5, J=1.0), lattice.hypercubic(8, 2)
    for call in (lambda: mfqf.steady_state(model, lat, initial),
                 lambda: mfqf.evolve(model, lat, 1.0, initial),
                 lambda: mfqf.continuation(model, lat, "Delta", [1.5, 1.6], initial)):
        with pytest.raises(TypeError, match="initial"):
            call()


# ------------------------------------------------------------------------------- bad input

BAD_MODEL = Model(Delta=1.0, Omega=0.5, J=1.0)
RING6 = lattice.chain(6)
ETA6 = np.zeros((3, 3, 6))
DUCK = SimpleNamespace(mu=(0.0, 0.0, -1.0), model=BAD_MODEL)
BAD_INPUTS = [
    case(mfqf.rhs, BAD_MODEL, RING6, (0, 0), ETA6, param="mu"),
    case(mfqf.rhs, BAD_MODEL, RING6, (0, 0, -1), np.zeros((3, 3, 5)), param="eta"),
    case(mfqf.rhs, BAD_MODEL, lattice.cylinder(4, 4), (0, 0, -1), ETA6, param="lattice"),
    case(mfqf.rhs, "model", RING6, (0, 0, -1), ETA6, param="model"),
    case(mfqf.evolve, BAD_MODEL, lattice.cylinder(4, 4), 1.0, param="lattice"),
    case(mfqf.evolve, BAD_MODEL, lattice.chain(6, periodic=False), 1.0, param="lattice"),
    case(mfqf.evolve, BAD_MODEL, RING6, -1.0, param="t_final"),
    case(mfqf.evolve, BAD_MODEL, RING6, 1.0, ((0, 0, -1), np.zeros((3, 3, 5))),
         param="initial"),
    case(mfqf.evolve, BAD_MODEL, RING6, 1.0, DUCK, param="initial"),
    case(mfqf.evolve, BAD_MODEL, RING6, 1.0, times=[0.0, 2.0], param="times"),
    case(mfqf.evolve, BAD_MODEL, RING6, 1.0, options=mfqf.SteadyOptions(), param="options"),
    case(mfqf.steady_state, "model", RING6, param="model"),
    case(mfqf.steady_state, BAD_MODEL, lattice.fully_connected(5), param="lattice"),
    case(mfqf.steady_state, BAD_MODEL, RING6, DUCK, param="initial"),
    case(mfqf.steady_state, BAD_MODEL, RING6, ((0, 0, np.nan), ETA6), param="initial"),
    case(mfqf.steady_state, BAD_MODEL, RING6, options={"kappa": False}, param="options"),
    case(mfqf.continuation, BAD_MODEL, RING6, "Gamma", [1, 2], param="param"),
    case(mfqf.continuation, BAD_MODEL, RING6, "Delta", [1, 2], method="newton",
         param="method"),
    case(mfqf.continuation, BAD_MODEL, RING6, "Delta", [1], param="values"),
    case(mfqf.continuation, BAD_MODEL, RING6, "Delta", [1, 2], max_points=0,
         param="max_points"),
    case(mfqf.continuation, BAD_MODEL, RING6, "Delta", [1, 2], DUCK, param="initial"),
    case(mfqf.continuation, None, RING6, "Delta", [1, 2], param="model"),
    case(mfqf.SteadyOptions, t_pre=-1.0, param="t_pre"),
    case(mfqf.SteadyOptions, pre_sites=2, param="pre_sites"),
    case(mfqf.SteadyOptions, kappa=False, require_stable=True, param="require_stable"),
    case(mfqf.EvolveOptions, n_times=1, param="n_times"),
    case(mfqf.EvolveOptions, method="euler", param="method"),
    case(mfqf.EvolveOptions, rtol=0.0, param="rtol"),
    case(mfqf.EvolveOptions, symmetric="yes", param="symmetric"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


@pytest.mark.parametrize("call", [
    lambda m, lat: mfqf.steady_state(m, lat),
    lambda m, lat: mfqf.evolve(m, lat, 1.0),
    lambda m, lat: mfqf.continuation(m, lat, "Delta", [1.0, 1.1]),
    lambda m, lat: mfqf.rhs(m, lat, (0, 0, -1), np.zeros((3, 3, *lat.shape))),
], ids=["steady_state", "evolve", "continuation", "rhs"])
def test_a_lattice_that_does_not_fit_is_refused_with_an_estimate(call, monkeypatch):
    """With 20 MB available (DDLIB_MEMORY_LIMIT), 300² (90 000 sites: the steady state needs
    ~65 MB of correlators and work arrays) is refused at once, naming the lattice, with the
    estimate in GB and the largest L that fits."""
    lat = lattice.hypercubic(300, 2)
    monkeypatch.setenv("DDLIB_MEMORY_LIMIT", "20M")
    check_rejects(case(call, BAD_MODEL, lat, param="lattice"))  # fast, names the lattice
    with pytest.raises(MemoryError, match=r"lattice: MFQF .* needs about .* GB .* largest "
                                          r"that fits is L = \d+ in 2D") as info:
        call(BAD_MODEL, lat)
    assert isinstance(info.value, ValueError)
    fits = int(str(info.value).split("L = ")[-1].split()[0])
    assert 3 <= fits < 300  # 20 MB: ~150² for a steady state, ~30² for 201 saved times
