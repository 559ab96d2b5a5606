"""ddlib — solvers for driven-dissipative quantum spin lattices.

Physics layer: :mod:`ddlib.model` (:class:`Model`, the Hamiltonian's terms and the jump
operator), :mod:`ddlib.lattice`.
Solvers: :mod:`ddlib.exact`, :mod:`ddlib.meanfield`, :mod:`ddlib.mfqf` (a package),
:mod:`ddlib.mpo`, :mod:`ddlib.sweep`; what they hand to one another: :mod:`ddlib.results`
(``SteadySummary``, the warm-start contract); resources checked before work:
:mod:`ddlib.resources`.
Checking: :mod:`ddlib.pauli` (Pauli-string algebra), :mod:`ddlib.reference` (slow reference
routes). Book support: :mod:`ddlib.paper`. Units: Γ = 1 unless a model says otherwise.
"""

__version__ = "0.1.0"

from . import lattice  # noqa: E402
from .model import Model  # noqa: E402

__all__ = ["Model", "lattice", "__version__"]
