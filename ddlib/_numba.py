"""The one numba decorator of the package.

Every kernel is compiled with ``cache=True`` so that a book rebuild or a test run reuses the
machine code written next to the module (those ``*.nbi``/``*.nbc`` files are git-ignored).
"""

from functools import partial

import numba

njit = partial(numba.njit, cache=True)
"""``numba.njit`` with the on-disk cache switched on."""
