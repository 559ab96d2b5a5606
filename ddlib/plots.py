"""Thin re-export of :mod:`ddlib.paper.plots` (the chapters' figure style), an earlier path."""

from ddlib.paper.plots import COLORS, LABELS, draw_lattice, paper_style, subplots

__all__ = ["paper_style", "subplots", "draw_lattice", "LABELS", "COLORS"]
