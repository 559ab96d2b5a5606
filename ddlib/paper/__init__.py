"""Book support: material that serves the chapters, not the solvers.

App. D as printed (``appendix_d``), the chapters' parameter profiles (``profiles``), the
figure style (``plots``) and chapter reruns (``rerun``). Solvers never import this package.
``convergence``: the MPO chain's convergence in N and χ (chapter ``mpo``'s figure and choice).
"""
