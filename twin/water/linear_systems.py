"""The linear systems ``A h = F`` of the head equations, factorised with the pattern fixed.

The matrix over junction heads has the network's junction adjacency as its pattern, which never
changes while the network's structure does not. :class:`CholeskySystem` (the solver's default)
orders it and analyses the pattern once, then only refactorises numbers, with the
cancellation-free ``L D Lᵀ`` of an M-matrix (``kernels.hydraulics.cholesky``).
:class:`SuperLUSystem` solves the same system with SciPy's SuperLU, as an independent check.
Both share :func:`fill_reducing_order`.
"""

from __future__ import annotations

import numpy as np

from kernels.hydraulics import cholesky as chol


def fill_reducing_order(n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> np.ndarray:
    """A fill-reducing ordering of the head equations, as ``new -> old`` junction indices.

    SciPy has no stand-alone minimum-degree routine, but SuperLU computes one (``MMD_AT_PLUS_A``,
    multiple minimum degree on ``A + Aᵀ``, the ordering EPANET uses too) when it factorises; we
    factorise a diagonally dominant matrix of the same pattern once and keep its column
    permutation (``perm_c[old] = new``).
    """
    # deferred: scipy is slow to import, and only a solver's construction needs it
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla  # deferred, as above

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = len(pair_i)
    rows = np.concatenate([np.arange(n), pair_i, pair_j])
    cols = np.concatenate([np.arange(n), pair_j, pair_i])
    degree = np.bincount(np.concatenate([pair_i, pair_j]), minlength=n).astype(float)
    data = np.concatenate([degree + 1.0, -np.ones(2 * m)])
    probe = sp.csc_matrix((data, (rows, cols)), shape=(n, n))
    perm_c = sla.splu(probe, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                      options={"SymmetricMode": True}).perm_c
    return np.argsort(perm_c).astype(np.int64)


class CholeskySystem:
    """``A h = F`` solved by sparse Cholesky with the symbolic analysis done once.

    Ordering (:func:`fill_reducing_order`) and the pattern of ``L`` are computed at construction;
    :meth:`solve` scatters the new values, factorises numerically and solves
    (``kernels/hydraulics/cholesky.py``). This is what EPANET does, and what SciPy cannot offer:
    ``scipy.sparse.linalg.splu`` re-does its symbolic work on every call (see :class:`SuperLUSystem`).
    """

    def __init__(self, n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> None:
        self.n = n
        self.new_to_old = fill_reducing_order(n, pair_i, pair_j)
        self.old_to_new = np.empty_like(self.new_to_old)
        self.old_to_new[self.new_to_old] = np.arange(n)
        a = self.old_to_new[pair_i]
        b = self.old_to_new[pair_j]
        lower_row = np.maximum(a, b).astype(np.int64)
        lower_col = np.minimum(a, b).astype(np.int64)
        self.colptr, self.rowidx, self.parent = chol.symbolic_cholesky(n, lower_row, lower_col)
        self.off_pos = chol.entry_positions(self.colptr, self.rowidx, lower_row, lower_col)
        self.values = np.zeros(len(self.rowidx))
        self._work = np.zeros(n)
        self._first = np.zeros(n, dtype=np.int64)
        self._link = np.zeros(n, dtype=np.int64)
        self._b = np.zeros(n)
        self._ground = np.zeros(n)
        self._ground_k = np.zeros(n)
        self._d = np.zeros(n)

    @property
    def factor_nonzeros(self) -> int:
        """Entries of ``L`` (fill included)."""
        return len(self.rowidx)

    def solve(self, diag: np.ndarray, ground: np.ndarray, offdiag: np.ndarray,
              rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve; return ``(h, -1)``, or ``(rhs, i)`` with ``i`` the junction whose pivot failed.

        Uses the cancellation-free ``L D Lᵀ`` of an M-matrix (``ground`` = row sums); ``diag``
        is not needed.
        """
        n = self.n
        chol.scatter_values(n, self.colptr, ground, offdiag, self.old_to_new, self.off_pos,
                            self.values, self._ground)
        bad = chol.numeric_ldl_mmatrix(n, self.colptr, self.rowidx, self.values, self._ground,
                                       self._d, self._ground_k, self._work, self._first, self._link)
        if bad >= 0:
            return rhs, int(self.new_to_old[bad])
        b = self._b
        b[:] = rhs[self.new_to_old]
        chol.ldl_solve(n, self.colptr, self.rowidx, self.values, self._d, b)
        x = np.empty(n)
        x[self.new_to_old] = b
        return x, -1


class SuperLUSystem:
    """``A h = F`` on a fixed sparsity pattern, solved with SciPy's SuperLU.

    The CSC pattern and the ordering are fixed at construction (the matrix is stored already
    permuted by :func:`fill_reducing_order`); each solve writes the values into the CSC data array
    in place and factorises with the natural ordering, so SuperLU never re-orders. SciPy exposes
    no separate symbolic factorisation, so the numeric factorisation starts from scratch per solve.
    Kept as the independent check of :class:`CholeskySystem` and as a fallback.
    """

    def __init__(self, n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> None:
        # deferred: scipy is slow to import, and only this solver needs SuperLU
        import scipy.sparse as sp
        import scipy.sparse.linalg as sla  # deferred, as above

        self._sp, self._sla = sp, sla
        self.n = n
        m = len(pair_i)
        self.new_to_old = fill_reducing_order(n, pair_i, pair_j)
        old_to_new = np.empty_like(self.new_to_old)
        old_to_new[self.new_to_old] = np.arange(n)
        rows = old_to_new[np.concatenate([np.arange(n), pair_i, pair_j])]
        cols = old_to_new[np.concatenate([np.arange(n), pair_j, pair_i])]
        # mark each value slot (diagonal, pair, mirrored pair) to find where CSC stores it
        marker = sp.csc_matrix((np.arange(1, n + 2 * m + 1, dtype=float), (rows, cols)), shape=(n, n))
        marker.sort_indices()
        self.indptr = marker.indptr.copy()
        self.indices = marker.indices.copy()
        self.gather = marker.data.astype(np.int64) - 1
        self._values = np.empty(n + 2 * m)
        self._data = np.empty(len(self.gather))

    def solve(self, diag: np.ndarray, ground: np.ndarray, offdiag: np.ndarray,
              rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve; return ``(h, -1)``, or ``(rhs, i)`` with ``i`` a junction with no positive pivot."""
        bad = np.flatnonzero(diag <= 0.0)
        if bad.size:
            return rhs, int(bad[0])
        n, m = self.n, len(offdiag)
        values = self._values
        values[:n] = diag
        values[n:n + m] = offdiag
        values[n + m:] = offdiag
        np.take(values, self.gather, out=self._data)
        matrix = self._sp.csc_matrix((self._data, self.indices, self.indptr), shape=(n, n))
        try:
            lu = self._sla.splu(matrix, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                                options={"SymmetricMode": True})
        except RuntimeError:
            return rhs, int(np.argmin(diag))
        x = np.empty(n)
        x[self.new_to_old] = lu.solve(rhs[self.new_to_old])
        return x, -1


