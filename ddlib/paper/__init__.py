"""Book support: material that serves the chapters, not the solvers.

App. D as printed (``appendix_d``), the chapters' parameter profiles (``profiles``), the
figure style (``plots``), chapter reruns (``rerun``), the paper's numbers beside ours
(``reproduction``), the read-outs of the exact clusters (``clusters``), the read-outs and
plots of the archived MFQF windows (``maps``) and the MPO chain's convergence in N and χ
(``convergence``). Solvers never import this package.
"""
