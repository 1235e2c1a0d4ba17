"""The layout of the scheduler's state: what each row and column of its arrays holds, and the codes
stored in them.

Plain integers, no Numba: the library reads a finished state through these names (job columns,
time-integral rows, status codes) without compiling anything.
"""

from __future__ import annotations

# Placement modes: best fit or worst fit for the devices that do not fill a whole node.
CONSOLIDATED, SPREAD = 0, 1
PLACEMENT_CODES = {"consolidated": CONSOLIDATED, "spread": SPREAD}

# Job status.
FUTURE, WAITING, RUNNING, DONE, REJECTED = 0, 1, 2, 3, 4
# Event kinds (order matters for ties: completions before demotions).
EV_COMPLETE, EV_DEMOTE = 0, 1
# How a run segment ends; also the kinds of log records (plus nodes leaving and joining service).
LOG_START, LOG_COMPLETE, LOG_PREEMPT, LOG_FAIL, LOG_NODE_DOWN, LOG_NODE_UP = 0, 1, 2, 3, 4, 5

# Scalars: SchedState.iv (integers) and SchedState.fv (floats) hold parameters then counters.
IV_PASS, IV_PLACEMENT, IV_GPN, IV_NLEVELS, IV_PREEMPT, IV_DEPTH = 0, 1, 2, 3, 4, 5
IV_NTENANTS, IV_NNODES, IV_NPRIO, IV_NBINS, IV_LOGCAP = 6, 7, 8, 9, 10
IV_NEXT_ARRIVAL, IV_HEAP, IV_NRUN, IV_POOL_FREE, IV_LOG = 11, 12, 13, 14, 15
IV_RESV_HEAD, IV_RESV_VALID = 16, 17
IV_RESV_DIRTY, IV_NWAIT, IV_WAIT_GPUS, IV_ALLOC, IV_UP_GPUS, IV_SJF, IV_NDONE = 18, 19, 20, 21, 22, 23, 24
IV_LOG_OVERFLOW, IV_EVENTS, IV_PASSES, IV_PREEMPTIONS = 25, 26, 27, 28
IV_LISTS_BY, IV_NLISTS, IV_SHORTEST_FIRST, IV_BLOCKING, IV_PASS_DEPTH, IV_BACKFILL, IV_PREEMPT_LEVELS = (
    29, 30, 31, 32, 33, 34, 35)
N_IV = 36
FV_OVERHEAD, FV_CKPT, FV_BF_INTERVAL, FV_BIN_W = 0, 1, 2, 3
FV_NOW, FV_LAST, FV_SHADOW, FV_RESV_TIME = 4, 5, 6, 7
FV_THRESHOLDS = 8  # LAS thresholds (GPU-seconds) from here on
# Per-job float columns (SchedState.jf) and integer columns (SchedState.ji).
JF_SUBMIT, JF_WORK, JF_EST, JF_DONE, JF_ATTAINED, JF_SEG_START, JF_SEG_OVH = 0, 1, 2, 3, 4, 5, 6
JF_EST_END, JF_FIRST_START, JF_END, JF_LOST, JF_RUN, JF_RESERVED, JF_SJF_KEY = 7, 8, 9, 10, 11, 12, 13
N_JF = 14
JI_GPUS, JI_TENANT, JI_TPRIO, JI_STATUS, JI_NPRE, JI_NFAIL, JI_VERSION = 0, 1, 2, 3, 4, 5, 6
JI_LEVEL, JI_ALLOC, JI_QNEXT, JI_QPREV, JI_RUNPOS, JI_HEAP = 7, 8, 9, 10, 11, 12
N_JI = 13

# Queue rules: how a policy files and starts waiting jobs (new_state's keyword arguments; the
# policy classes of twin.compute.policies choose them).
LISTS_ONE = -1
"""``lists_by``: one waiting list. Otherwise ``lists_by`` is the job column (``JI_LEVEL``,
``JI_TENANT``) whose value names a job's list, and the lists are served in index order."""
PASS_IN_ORDER, PASS_FAIR_SHARE = 0, 1
"""``scheduling_pass``: the lists in index order, or the tenant with the lowest allocation/share first."""
UNLIMITED_DEPTH = 2**62
"""``pass_depth`` of a pass that may examine every waiting job."""
# Per-node columns (SchedState.nodes): free devices, in service, then the jobs on its devices.
ND_FREE, ND_UP, ND_SLOT0 = 0, 1, 2
# Rows of SchedState.counts (nodes per free level) and SchedState.nvec (per-node scratch).
CNT_LEVEL, CNT_SHADOW, CNT_TMP = 0, 1, 2
NV_SHADOW, NV_TMP, NV_SEL_NODE, NV_SEL_CNT, NV_AUX = 0, 1, 2, 3, 4
# Rows of SchedState.tint (queue heads/tails, tenant allocations) and SchedState.tflt.
TI_QHEAD, TI_QTAIL, TI_ALLOC, TI_BLOCKED = 0, 1, 2, 3
TF_SHARE, TF_CAP = 0, 1
# Rows of SchedState.pool: allocation entries (node, devices, next) and the running set.
PL_NODE, PL_CNT, PL_NEXT, PL_RUNNING = 0, 1, 2, 3
# Rows of SchedState.evi (event heap, with times in SchedState.evt).
EVI_KIND, EVI_JOB, EVI_VER = 0, 1, 2
# Rows of SchedState.bins: time integrals (value x seconds) per bin.
B_ALLOC, B_QJOBS, B_QGPUS, B_UP, B_FREE, B_FRAG = 0, 1, 2, 3, 4, 5
N_B = 6
# Rows of SchedState.logi (segment log, with times in SchedState.logt).
LG_JOB, LG_KIND, LG_NODE, LG_CNT = 0, 1, 2, 3
# Rows of SchedState.sci (integer scratch over running jobs); SchedState.scf holds sort keys.
SC_CAND, SC_ORDER, SC_BUF = 0, 1, 2
