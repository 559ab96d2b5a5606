"""Bad input of the book-support package ``ddlib.paper`` (figure style, profiles, reruns).

App. D (``ddlib.paper.appendix_d``) has its own tests in ``tests/test_appendix_d.py``; the
reruns' behaviour is tested in ``tests/test_book.py``. Here every public entry of
``ddlib.paper.plots``, ``ddlib.paper.profiles`` and ``ddlib.paper.rerun`` refuses a bad
argument, naming it, before any work (no figure drawn, no kernel started).
"""

from badinput import bad_input_test, case

from ddlib import lattice
from ddlib.paper import plots, profiles, rerun

BAD_INPUTS = [
    case(plots.subplots, 0, param="nrows"),
    case(plots.subplots, 1, 2.5, param="ncols"),
    case(plots.subplots, width=-1.0, param="width"),
    case(plots.draw_lattice, None, "ring", param="lattice"),
    case(plots.draw_lattice, "axes", lattice.chain(4), param="ax"),
    case(profiles.settings, "no_such_chapter", param="chapter"),
    case(profiles.settings, "multistability", "slowest", param="profile"),
    case(rerun.chapter_path, "no_such_chapter", param="chapter"),
    case(rerun.chapter_path, 3, param="chapter"),
    case(rerun.parameters, "no_such_chapter", param="chapter"),
    case(rerun.check, "no_such_chapter", None, param="chapter"),
    case(rerun.check, "multistability", [("JZ", 6.0)], param="overrides"),
    case(rerun.execute, "no_such_chapter", param="chapter"),
    case(rerun.figures, {"cells": []}, ".", "fig", param="nb"),
    case(rerun.main, "multistability", param="argv"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
