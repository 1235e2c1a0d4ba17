"""What a run records as it goes: the segment log and the time-binned integrals of the state."""

from __future__ import annotations

from numba import njit

from kernels.scheduler.layout import (
    B_ALLOC,
    B_FRAG,
    B_FREE,
    B_QGPUS,
    B_QJOBS,
    B_UP,
    CNT_LEVEL,
    FV_BIN_W,
    FV_LAST,
    IV_ALLOC,
    IV_GPN,
    IV_LOG,
    IV_LOG_OVERFLOW,
    IV_LOGCAP,
    IV_NBINS,
    IV_NWAIT,
    IV_UP_GPUS,
    IV_WAIT_GPUS,
    LG_CNT,
    LG_JOB,
    LG_KIND,
    LG_NODE,
    TI_ALLOC,
)
from kernels.scheduler.placement import free_total


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def log_record(iv, logt, logi, time_s, j, kind, node, cnt):
    i = iv[IV_LOG]
    if i >= iv[IV_LOGCAP]:
        iv[IV_LOG_OVERFLOW] = 1
        return
    logt[i] = time_s
    logi[LG_JOB, i] = j
    logi[LG_KIND, i] = kind
    logi[LG_NODE, i] = node
    logi[LG_CNT, i] = cnt
    iv[IV_LOG] = i + 1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def integrate(iv, fv, counts, tint, bins, bin_tenant, t):
    """Add the piecewise-constant state over [last, t] to the time bins."""
    last = fv[FV_LAST]
    if t <= last:
        return
    width = fv[FV_BIN_W]
    n_bins = iv[IV_NBINS]
    end = min(t, width * n_bins)
    a = last
    b = int(a // width)
    if a < end and b < n_bins:
        gpn = iv[IV_GPN]
        alloc = float(iv[IV_ALLOC])
        queue_jobs = float(iv[IV_NWAIT])
        queue_gpus = float(iv[IV_WAIT_GPUS])
        up = float(iv[IV_UP_GPUS])
        free_gpus = float(free_total(counts[CNT_LEVEL], gpn))
        frag = free_gpus - gpn * counts[CNT_LEVEL, gpn]
        while a < end and b < n_bins:
            edge = (b + 1) * width
            if edge <= a:  # rounding put ``a`` on the bin's upper edge
                b += 1
                continue
            stop = end if end < edge else edge
            dt = stop - a
            bins[B_ALLOC, b] += alloc * dt
            bins[B_QJOBS, b] += queue_jobs * dt
            bins[B_QGPUS, b] += queue_gpus * dt
            bins[B_UP, b] += up * dt
            bins[B_FREE, b] += free_gpus * dt
            bins[B_FRAG, b] += frag * dt
            for tn in range(bin_tenant.shape[0]):
                if tint[TI_ALLOC, tn] != 0:
                    bin_tenant[tn, b] += tint[TI_ALLOC, tn] * dt
            a = stop
            b += 1
    fv[FV_LAST] = t


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def integrate_state(st, t):
    integrate(st.iv, st.fv, st.counts, st.tint, st.bins, st.bin_tenant, t)
