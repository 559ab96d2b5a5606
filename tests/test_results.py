"""The warm-start contract: SteadySummary is frozen, validated and JSON-portable."""

import dataclasses
import json
import math

import pytest
from badinput import bad_input_test, case

from ddlib import Model
from ddlib.results import (
    SolverResult,
    SteadyResult,
    SteadySummary,
    TrajectoryResult,
    as_initial,
    check_options,
)

MODEL = Model(Delta=1.5, Omega=0.5, J=1.0)


_BASE = dict(model=MODEL, mu=(0.1, 0.2, -0.9), converged=True, message="converged",
             stable=True, kappa=0.17, solver="mfqf")


def _summary(**kw):
    return SteadySummary(**(_BASE | kw))


def test_round_trip_through_strict_json_keeps_every_field():
    s = _summary(kappa=math.nan, stable=None, sigma=[[1, 2, 3], [2, 4, 5], [3, 5, 6]],
                 lam=[[math.nan] * 3] * 3, lattice={"kind": "chain", "N": 8})
    back = SteadySummary.from_dict(json.loads(json.dumps(s.to_dict(), allow_nan=False)))
    assert back == s
    assert math.isnan(back.kappa) and back.stable is None and back.model == MODEL
    assert back.sigma[1][2] == 5.0 and math.isnan(back.lam[0][0])


def test_summary_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        _summary().mu = (0, 0, -1)


def test_as_initial_accepts_summaries_and_results_refuses_duck_types():
    s = _summary()
    assert as_initial(None) is None and as_initial(s) is s

    class Result:
        def summary(self):
            return s

    class Duck:
        mu = (0.0, 0.0, -1.0)
        model = MODEL

    assert as_initial(Result()) is s
    with pytest.raises(TypeError, match="initial"):
        as_initial(Duck(), solver="mfqf")


# ------------------------------------------------------------------------ the result shape

def _result_classes():
    from ddlib import exact, meanfield, mfqf, mpo, reference

    return [(SteadyResult, meanfield.SteadyStates), (SteadyResult, mfqf.SteadyState),
            (SteadyResult, mfqf.Continuation), (SteadyResult, exact.SteadyState),
            (SteadyResult, exact.LiouvillianGap), (SteadyResult, mpo.SteadyState),
            (SteadyResult, mpo.Evolution), (TrajectoryResult, meanfield.Trajectory),
            (TrajectoryResult, mfqf.Evolution),
            (TrajectoryResult, reference.MagnetisationTrajectory),
            (SolverResult, meanfield.ResponseCurve)]


@pytest.mark.parametrize("base, cls", _result_classes(),
                         ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_solver_result_derives_from_the_base_record(base, cls):
    """One shape: frozen, keyword-only, message/model/lattice from SolverResult, the flag from
    SteadyResult (converged) or TrajectoryResult (success, converged its alias)."""
    assert issubclass(cls, base) and cls.__dataclass_params__.frozen
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert {"message", "model", "lattice"} <= set(fields)
    assert all(f.kw_only for f in fields.values())
    if base is SteadyResult:
        assert "converged" in fields
    if base is TrajectoryResult:
        assert "success" in fields and isinstance(cls.converged, property)


def test_flags_are_python_bools_and_the_alias_follows_success():
    import numpy as np

    assert SteadyResult(message="", converged=np.True_).converged is True
    run = TrajectoryResult(message="stopped", success=np.False_)
    assert run.success is False and run.converged is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.success = True


def test_cheap_results_carry_their_model_and_lattice():
    """Every solver hands back what it solved: the gap and the exact state of a pair too."""
    from ddlib import exact, lattice

    pair, model = lattice.fully_connected(2), Model(Delta=1.0, Omega=0.5, J=1.0)
    for result in (exact.steady_state(model, pair), exact.liouvillian_gap(model, pair)):
        assert result.model == model and result.lattice == pair and result.converged
        assert isinstance(result, SteadyResult) and result.message


# ------------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    case(SteadySummary, model=MODEL, mu=(0, 0), converged=True, param="mu"),
    case(SteadySummary, model="xy", mu=(0, 0, -1), converged=True, param="model"),
    case(SteadySummary, model=MODEL, mu=(0, 0, -1), converged=1, param="converged"),
    case(SteadySummary, model=MODEL, mu=(0, 0, -1), converged=True, kappa="0.1",
         param="kappa"),
    # each malformed field of a summary that is otherwise good
    case(SteadySummary, **(_BASE | {"mu": (0, 0, math.inf)}), param="mu"),
    case(SteadySummary, **(_BASE | {"model": {"Delta": 1}}), param="model"),
    case(SteadySummary, **(_BASE | {"converged": "yes"}), param="converged"),
    case(SteadySummary, **(_BASE | {"stable": 1}), param="stable"),
    case(SteadySummary, **(_BASE | {"kappa": "fast"}), param="kappa"),
    case(SteadySummary, **(_BASE | {"solver": 3}), param="solver"),
    case(SteadySummary, **(_BASE | {"sigma": [[1, 2], [3, 4]]}), param="sigma"),
    case(SteadySummary, **(_BASE | {"lattice": "chain"}), param="lattice"),
    case(SteadySummary.from_dict, "json", param="data"),
    case(SteadySummary.from_dict, {"model": {"Delta": 1.0, "Omega": 0.5, "J": 1.0},
                                   "mu": [0, 0, -1], "converged": True, "eta": []},
         param="data"),
    case(as_initial, {"mu": (0, 0, -1)}, param="initial"),
    case(check_options, "defaults", SteadySummary, param="options"),
    case(SolverResult, message=None, param="message"),
    case(SolverResult, message="ok", model={"Delta": 1.0}, param="model"),
    case(SolverResult, message="ok", model=MODEL, lattice="chain", param="lattice"),
    case(SteadyResult, message="ok", converged="yes", param="converged"),
    case(TrajectoryResult, message="ok", success=1, param="success"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
