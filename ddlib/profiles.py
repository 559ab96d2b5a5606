"""Thin re-export of :mod:`ddlib.paper.profiles` (the chapters' profiles), an earlier path."""

from ddlib.paper.profiles import PROFILES, settings

__all__ = ["PROFILES", "settings"]
