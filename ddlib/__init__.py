"""ddlib — solvers for driven-dissipative quantum spin lattices.

Physics layer: :mod:`ddlib.model` (:class:`Model`), :mod:`ddlib.lattice`.
Solvers: :mod:`ddlib.exact`, :mod:`ddlib.meanfield`, :mod:`ddlib.mfqf`, :mod:`ddlib.mpo`,
:mod:`ddlib.sweep`. Units: Γ = 1 unless a model says otherwise.
"""

__version__ = "0.1.0"

from . import lattice  # noqa: E402
from .model import Model  # noqa: E402

__all__ = ["Model", "lattice", "__version__"]
