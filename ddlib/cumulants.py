"""Former home of the Pauli algebra, the reference routes and App. D: a thin re-export.

``ddlib.cumulants`` was split by audience:

* :mod:`ddlib.pauli` — the Pauli-string algebra (:class:`~ddlib.pauli.Poly`,
  :class:`~ddlib.pauli.PauliSum`, :func:`~ddlib.pauli.commutator`, the adjoint Lindbladian,
  the MFQF closure);
* :mod:`ddlib.reference` — slow reference right-hand sides and exact-dynamics helpers used for
  checking (:func:`~ddlib.reference.mfqf_rhs_reference`, :func:`~ddlib.reference.exact_rates`,
  :func:`~ddlib.reference.lindblad_evolution`, ...);
* :mod:`ddlib.paper.appendix_d` — App. D as printed and as derived
  (:func:`~ddlib.paper.appendix_d.derived_equations`, :func:`~ddlib.paper.appendix_d.misprints`,
  :func:`~ddlib.paper.appendix_d.closure_error_scan`, ...).

Every name of the old module is still importable from here (``from ddlib import cumulants``,
``from ddlib.cumulants import PauliSum``); new code imports from the modules above.
"""

from .paper.appendix_d import *  # noqa: F403
from .paper.appendix_d import __all__ as _appendix_d
from .pauli import *  # noqa: F403
from .pauli import __all__ as _pauli
from .reference import *  # noqa: F403
from .reference import __all__ as _reference

__all__ = [*_pauli, *_reference, *_appendix_d]
