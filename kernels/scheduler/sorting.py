"""A stable lexicographic sort into caller-provided buffers (victim order, reservation order)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _lex_less(keys, a, b):
    for c in range(keys.shape[1]):
        if keys[a, c] != keys[b, c]:
            return keys[a, c] < keys[b, c]
    return False


@njit(cache=True, _nrt=False)
def lex_argsort(keys, n, order, buffer):
    """Stable order of the first ``n`` rows of ``keys`` (lexicographic), written to ``order``.

    A bottom-up merge sort into caller-provided buffers: no allocation (so it runs without
    Numba's reference counting), and one routine for every composite key instead of a chain of
    ``np.argsort`` calls, each of which costs seconds of compile time.
    """
    for i in range(n):
        order[i] = i
    src = order
    dst = buffer
    in_order = True
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            k = mid
            out = lo
            while i < mid and k < hi:
                if _lex_less(keys, src[k], src[i]):
                    dst[out] = src[k]
                    k += 1
                else:
                    dst[out] = src[i]
                    i += 1
                out += 1
            while i < mid:
                dst[out] = src[i]
                i += 1
                out += 1
            while k < hi:
                dst[out] = src[k]
                k += 1
                out += 1
        src, dst = dst, src
        in_order = not in_order
        width *= 2
    if not in_order:
        for i in range(n):
            order[i] = src[i]


def lex_argsort_reference(keys, n: int) -> list[int]:
    """Plain-Python twin of :func:`lex_argsort`: the stable lexicographic order of the rows."""
    return sorted(range(n), key=lambda i: (tuple(float(v) for v in keys[i]), i))
