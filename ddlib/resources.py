"""Resources checked before they are spent: refuse work that cannot fit in memory, with an
estimate, before allocating it.

A solver estimates the peak memory of a computation from its size (``bytes_needed``), and calls
:func:`check_memory`; when the estimate exceeds what is available now it raises
:class:`InsufficientMemory` (a ``ValueError``, and a ``MemoryError``) whose message names the
parameter responsible, gives the estimate in GB, what was counted, and the largest size that
fits. Available memory is read with ``psutil.virtual_memory().available`` when psutil is
installed (it counts reclaimable page cache), else ``os.sysconf`` (free physical pages only: a
conservative figure). ``DDLIB_MEMORY_LIMIT`` (bytes, or with a suffix ``K``, ``M``, ``G``)
caps it, for tests and shared machines.

Examples
--------
>>> from ddlib.resources import available_memory, check_memory
>>> available_memory() > 0
True
>>> check_memory(8e30, param="L", what="MFQF on hypercubic(L=10**10, dim=3)",
...              counted="8 float64 per site", largest="L = 1000")
Traceback (most recent call last):
    ...
ddlib.resources.InsufficientMemory: L: MFQF ... needs about 8e+21 GB ... is L = 1000
"""

from __future__ import annotations

import os
from numbers import Real

__all__ = ["InsufficientMemory", "available_memory", "check_memory"]


class InsufficientMemory(ValueError, MemoryError):
    """A computation was refused before it started: it would not fit in memory."""


def _parse_bytes(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "KMGT" else text
    return int(float(number) * scale)


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (see the module docstring)."""
    try:
        import psutil

        avail = int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is installed where the tests run
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    limit = os.environ.get("DDLIB_MEMORY_LIMIT")
    if limit:
        try:
            avail = min(avail, _parse_bytes(limit))
        except ValueError:
            raise ValueError(f"DDLIB_MEMORY_LIMIT must be a number of bytes (e.g. 4G), "
                             f"got {limit!r}") from None
    return avail


def check_memory(need: float, *, param: str, what: str, counted: str,
                 largest: str = "") -> None:
    """Raise :class:`InsufficientMemory` when ``need`` bytes exceed :func:`available_memory`.

    Parameters
    ----------
    need : float
        Estimated peak bytes of the computation.
    param : str
        The parameter whose value makes it too large (named first in the message).
    what : str
        The computation, e.g. ``"MFQF steady state on hypercubic(L=4000, dim=2)"``.
    counted : str
        What the estimate counts, e.g. ``"80 float64 per site: η, its FFT, work arrays"``.
    largest : str, optional
        The largest size that fits, e.g. ``"L = 1200"``.
    """
    if isinstance(need, bool) or not isinstance(need, Real) or not need >= 0:
        raise ValueError(f"need must be a number of bytes >= 0, got {need!r}")
    if not isinstance(param, str) or not param:
        raise ValueError(f"param must name the parameter, got {param!r}")
    avail = available_memory()
    if need > avail:
        fits = f"; the largest that fits is {largest}" if largest else ""
        raise InsufficientMemory(
            f"{param}: {what} needs about {need / 1e9:.3g} GB ({counted}), but only "
            f"{avail / 1e9:.3g} GB are available{fits}")
