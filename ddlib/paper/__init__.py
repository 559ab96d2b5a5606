"""Book support: material that serves the chapters, not the solvers.

App. D as printed (``appendix_d``), the chapters' parameter profiles (``profiles``), the
figure style (``plots``), chapter reruns (``rerun``) and the paper's numbers beside ours
(``reproduction``). Solvers never import this package.
"""
