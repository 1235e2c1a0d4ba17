"""Mesoscopic link-queue traffic: vehicles on links, lanes gated by signals, spillback.

The model (documented in ``docs/traffic.md``) is a queue-based mesoscopic model in the family of
SUMO's mesosim (with lane queues) and MATSim's queue model:

* A vehicle entering link ``l`` at time ``e`` (after crossing the junction upstream, which takes
  the movement's ``mov_extra_s``) reaches the stop line at ``ready = e + extra + fft[l]``, plus
  the acceleration loss when it starts from rest.
* On entering, it picks the least-occupied *lane queue* of ``l`` that serves its next movement
  (``mov_queue_ptr``/``mov_queues``) and waits in it, first in first out: a left-turner waiting
  in a lane shared with through traffic blocks the through cars behind it.
* A queue's head leaves when its movement is *open* (green after the start-up lost time, or in
  the first seconds of yellow), the lane has discharge *credit* (saturation flow × the turn's
  factor, accrued every step, so a bottleneck passes exactly its capacity), it need not give
  way to a higher-priority conflicting movement that is moving or about to, and the next link
  has *storage* left (length × lanes / jam spacing). A full link blocks upstream: spillback.
  Nothing teleports.
* Signals are per-junction state machines: fixed time (with offset), actuated (gap-out /
  max-out), or max-pressure; phase transitions go through yellow and all-red.

Everything is a pure function of NumPy arrays. The state arrays are updated in place so that
the engine can advance the model in blocks without copying. :func:`advance` is the Numba
kernel, :func:`advance_reference` the plain-Python twin written with deques and dicts, which a
property test checks step for step.

Array conventions (``L`` links, ``M`` movements, ``Q`` lane queues, ``J`` signal junctions,
``P`` phases, ``V`` vehicles). A movement with ``mov_out_link == -1`` is the *sink* of its link
(trips end at the end of their last link). Movement state codes: 0 red, 1 yellow, 2 permitted
green (gives way), 3 protected green.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
from numba import njit

RED, YELLOW, PERMITTED, PROTECTED = 0, 1, 2, 3
FIXED, ACTUATED, MAX_PRESSURE = 0, 1, 2
GREEN_STAGE, YELLOW_STAGE, ALL_RED_STAGE = 0, 1, 2

# Indices into ``Network.params``.
P_DT = 0  # step (s)
P_STARTUP_LOST = 1  # start-up lost time at the beginning of green (s)
P_YELLOW_EXT = 2  # seconds of yellow still used by drivers (s)
P_GAP = 3  # critical gap for yielding movements (s)
P_STOP_DELAY = 4  # a delay above this counts as a stop (s)
P_DETECTOR_LEAD = 5  # actuated detector set-back, as travel time before the stop line (s)
P_DEPART_REST = 6  # 1 if trips start from standstill (they pay the link's acceleration loss)
P_CLEARANCE = 7  # time a crossing vehicle keeps the conflict area busy (s)
N_PARAMS = 8

# Indices into ``State.counters``.
C_NEXT_DEPART = 0  # position in depart_order of the next vehicle to depart
C_ENTERED = 1  # vehicles inserted into the network so far
C_EXITED = 2  # vehicles that finished their trip so far
C_MOVES = 3  # vehicle-link updates (insertions, junction crossings and arrivals)
N_COUNTERS = 4

_FAR_PAST = -1.0e9


class Network(NamedTuple):
    """Static arrays of links, lane queues, movements and their conflicts."""

    link_fft_s: np.ndarray  # float64[L] free-flow time
    link_storage_veh: np.ndarray  # int64[L] vehicles the link holds at jam density
    link_cap_veh_per_s: np.ndarray  # float64[L] insertion capacity (saturation flow × lanes)
    link_accel_loss_s: np.ndarray  # float64[L] time lost accelerating from rest to free speed
    queue_link: np.ndarray  # int64[Q] link each queue belongs to
    queue_cap_veh_per_s: np.ndarray  # float64[Q] saturation flow of the queue's lane(s)
    mov_in_link: np.ndarray  # int64[M]
    mov_out_link: np.ndarray  # int64[M], -1 for a sink
    mov_queue_ptr: np.ndarray  # int64[M+1] CSR: queues that serve the movement
    mov_queues: np.ndarray  # int64[...]
    mov_factor: np.ndarray  # float64[M] saturation flow factor of the turn (≤ 1)
    mov_cap_veh_per_s: np.ndarray  # float64[M] saturation flow of the movement's lanes
    mov_junction: np.ndarray  # int64[M] signal junction, -1 if unsignalised
    mov_local: np.ndarray  # int64[M] index among the junction's movements
    mov_rank: np.ndarray  # int64[M] static priority (higher goes first among equal signals)
    mov_extra_s: np.ndarray  # float64[M] time to cross the junction
    foe_ptr: np.ndarray  # int64[M+1] CSR of conflicting movements
    foe_mov: np.ndarray  # int64[...]
    params: np.ndarray  # float64[N_PARAMS]


class Signals(NamedTuple):
    """Signal plans per junction (phases of green with their transitions) and controllers."""

    ctrl_type: np.ndarray  # int64[J] FIXED / ACTUATED / MAX_PRESSURE
    phase_ptr: np.ndarray  # int64[J+1] phases of junction j are phase_ptr[j]:phase_ptr[j+1]
    jmov_ptr: np.ndarray  # int64[J+1] movements of j are jmov[jmov_ptr[j]:jmov_ptr[j+1]]
    jmov: np.ndarray  # int64[...] global movement ids, in local order
    state_ptr: np.ndarray  # int64[P] offset of phase p's movement states in phase_state
    phase_state: np.ndarray  # int64[...] state code per (phase, local movement)
    green_s: np.ndarray  # float64[P] fixed-time green (mutable: adaptive control rewrites it)
    min_green_s: np.ndarray  # float64[P]
    max_green_s: np.ndarray  # float64[P]
    yellow_s: np.ndarray  # float64[P] yellow after the phase
    all_red_s: np.ndarray  # float64[P] all-red after the yellow
    passage_s: np.ndarray  # float64[J] actuated gap (passage) time
    decision_s: np.ndarray  # float64[J] max-pressure decision interval
    tsp_phase: np.ndarray  # int64[J] phase with an active priority request, -1 if none
    tsp_until_s: np.ndarray  # float64[J] request expiry time
    tsp_max_ext_s: np.ndarray  # float64[J] longest green extension granted


class Vehicles(NamedTuple):
    """Trips: departure times and routes (links, and the movement taken at the end of each)."""

    depart_s: np.ndarray  # float64[V]
    depart_order: np.ndarray  # int64[V] vehicles sorted by departure (stable)
    route_ptr: np.ndarray  # int64[V] first index of the vehicle's route in route_link
    route_len: np.ndarray  # int64[V]
    route_link: np.ndarray  # int64[...] links in order
    route_mov: np.ndarray  # int64[...] movement at the end of each route link (sink at the end)


class State(NamedTuple):
    """Everything that changes; :func:`new_state` makes the initial one."""

    veh_pos: np.ndarray  # int64[V] index of the current link in the route, -1 before departure
    veh_queue: np.ndarray  # int64[V] lane queue the vehicle is in, -1 if none
    veh_ready_s: np.ndarray  # float64[V] time at the current stop line
    veh_enter_s: np.ndarray  # float64[V] time the current link was entered
    veh_start_s: np.ndarray  # float64[V] insertion time, NaN before
    veh_arrive_s: np.ndarray  # float64[V] trip end, NaN before
    veh_delay_s: np.ndarray  # float64[V] accumulated stop-line delay
    veh_next: np.ndarray  # int64[V] next vehicle in the same list (origin list or queue)
    link_occ: np.ndarray  # int64[L] vehicles on the link (moving or queued)
    ins_credit: np.ndarray  # float64[L] insertion credit (vehicles)
    ins_starved: np.ndarray  # int64[L] 1 if a vehicle waited for insertion credit last step
    orig_head: np.ndarray  # int64[L] first vehicle waiting to be inserted, -1 if none
    orig_tail: np.ndarray  # int64[L]
    queue_head: np.ndarray  # int64[Q]
    queue_tail: np.ndarray  # int64[Q]
    queue_count: np.ndarray  # int64[Q] vehicles in the queue (driving to or at the stop line)
    queue_credit: np.ndarray  # float64[Q] discharge credit (vehicles)
    queue_starved: np.ndarray  # int64[Q] 1 if the head waited for credit last step
    queue_now: np.ndarray  # int64[Q] vehicles standing at the stop line at the last step
    queue_max: np.ndarray  # int64[Q] largest queue_now seen
    queue_sum: np.ndarray  # float64[Q] ∫ queue_now dt (veh·s)
    queue_blocked_s: np.ndarray  # float64[Q] since when the head waits for downstream space, -1
    mov_state: np.ndarray  # int64[M] current state code
    mov_since_s: np.ndarray  # float64[M] time the current state began
    mov_last_s: np.ndarray  # float64[M] last discharge time
    mov_joined: np.ndarray  # int64[M] vehicles that joined the movement (demand)
    mov_passed: np.ndarray  # int64[M] vehicles that crossed (or arrived, for sinks)
    mov_delay_sum_s: np.ndarray  # float64[M] stop-line delay of those that crossed
    mov_stops: np.ndarray  # int64[M] crossings delayed by more than the stop threshold
    mov_open_s: np.ndarray  # float64[M] time the movement was open (effective green)
    link_entered: np.ndarray  # int64[L]
    link_exited: np.ndarray  # int64[L]
    link_time_sum_s: np.ndarray  # float64[L] sum of traversal times of exited vehicles
    sig_phase: np.ndarray  # int64[J] current phase (global index)
    sig_stage: np.ndarray  # int64[J] GREEN_STAGE / YELLOW_STAGE / ALL_RED_STAGE
    sig_time_s: np.ndarray  # float64[J] time spent in the current stage
    sig_next: np.ndarray  # int64[J] phase that follows the current transition
    sig_last_call_s: np.ndarray  # float64[J] last time the current phase had a call
    counters: np.ndarray  # int64[N_COUNTERS]


def new_state(network: Network, signals: Signals, vehicles: Vehicles) -> State:
    """The initial state: empty network, every signal at the start of its first phase.

    The wrapper (``twin.signals.SignalController.set_initial_positions``) then places each
    controller in its cycle from its offset, and gives unsignalised movements their state.
    """
    n_links = len(network.link_fft_s)
    n_queues = len(network.queue_link)
    n_movs = len(network.mov_in_link)
    n_junctions = len(signals.ctrl_type)
    n_veh = len(vehicles.depart_s)
    sig_phase = signals.phase_ptr[:-1].copy()
    return State(
        veh_pos=np.full(n_veh, -1, np.int64),
        veh_queue=np.full(n_veh, -1, np.int64),
        veh_ready_s=np.zeros(n_veh),
        veh_enter_s=np.zeros(n_veh),
        veh_start_s=np.full(n_veh, np.nan),
        veh_arrive_s=np.full(n_veh, np.nan),
        veh_delay_s=np.zeros(n_veh),
        veh_next=np.full(n_veh, -1, np.int64),
        link_occ=np.zeros(n_links, np.int64),
        ins_credit=np.zeros(n_links),
        ins_starved=np.zeros(n_links, np.int64),
        orig_head=np.full(n_links, -1, np.int64),
        orig_tail=np.full(n_links, -1, np.int64),
        queue_head=np.full(n_queues, -1, np.int64),
        queue_tail=np.full(n_queues, -1, np.int64),
        queue_count=np.zeros(n_queues, np.int64),
        queue_credit=np.zeros(n_queues),
        queue_starved=np.zeros(n_queues, np.int64),
        queue_now=np.zeros(n_queues, np.int64),
        queue_max=np.zeros(n_queues, np.int64),
        queue_sum=np.zeros(n_queues),
        queue_blocked_s=np.full(n_queues, -1.0),
        mov_state=np.full(n_movs, PROTECTED, np.int64),
        mov_since_s=np.full(n_movs, _FAR_PAST),
        mov_last_s=np.full(n_movs, _FAR_PAST),
        mov_joined=np.zeros(n_movs, np.int64),
        mov_passed=np.zeros(n_movs, np.int64),
        mov_delay_sum_s=np.zeros(n_movs),
        mov_stops=np.zeros(n_movs, np.int64),
        mov_open_s=np.zeros(n_movs),
        link_entered=np.zeros(n_links, np.int64),
        link_exited=np.zeros(n_links, np.int64),
        link_time_sum_s=np.zeros(n_links),
        sig_phase=sig_phase,
        sig_stage=np.zeros(n_junctions, np.int64),
        sig_time_s=np.zeros(n_junctions),
        sig_next=sig_phase.copy(),
        sig_last_call_s=np.zeros(n_junctions),
        counters=np.zeros(N_COUNTERS, np.int64),
    )


# --------------------------------------------------------------------------------------------
# The Numba kernel
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _head_movement(q, veh, st):
    """Movement of the vehicle at the head of queue ``q`` (-1 if empty)."""
    v = st.queue_head[q]
    if v < 0:
        return -1
    return veh.route_mov[veh.route_ptr[v] + st.veh_pos[v]]


@njit(cache=True)
def _phase_has_call(j, p, t, net, sig, veh, st):
    """Whether a vehicle of a movement green in phase ``p`` is within the detector lead."""
    lead = net.params[P_DETECTOR_LEAD]
    base = sig.jmov_ptr[j]
    for k in range(sig.jmov_ptr[j + 1] - base):
        if sig.phase_state[sig.state_ptr[p] + k] < PERMITTED:
            continue
        m0 = sig.jmov[base + k]
        for i in range(net.mov_queue_ptr[m0], net.mov_queue_ptr[m0 + 1]):
            q = net.mov_queues[i]
            v = st.queue_head[q]
            if v >= 0 and st.veh_ready_s[v] <= t + lead:
                m = _head_movement(q, veh, st)
                if (
                    net.mov_junction[m] == j
                    and sig.phase_state[sig.state_ptr[p] + net.mov_local[m]] >= PERMITTED
                ):
                    return True
    return False


@njit(cache=True)
def _waiting(m, net, st):
    """Vehicles standing in the queues that serve movement ``m``."""
    total = 0
    for i in range(net.mov_queue_ptr[m], net.mov_queue_ptr[m + 1]):
        total += st.queue_now[net.mov_queues[i]]
    return total


@njit(cache=True)
def _pressure(j, p, net, sig, st):
    """Normalised max-pressure weight of phase ``p``: Σ capacity × (queue in − occupancy out)."""
    base = sig.jmov_ptr[j]
    total = 0.0
    for k in range(sig.jmov_ptr[j + 1] - base):
        if sig.phase_state[sig.state_ptr[p] + k] < PERMITTED:
            continue
        m = sig.jmov[base + k]
        upstream = _waiting(m, net, st) / max(net.link_storage_veh[net.mov_in_link[m]], 1)
        out = net.mov_out_link[m]
        downstream = 0.0
        if out >= 0:
            downstream = st.link_occ[out] / max(net.link_storage_veh[out], 1)
        total += net.mov_cap_veh_per_s[m] * (upstream - downstream)
    return total


@njit(cache=True)
def _green_target_s(j, t, net, sig, veh, st):
    """How long the current green lasts, as known now (≥ the time spent means: keep going)."""
    p = st.sig_phase[j]
    elapsed = st.sig_time_s[j]
    dt = net.params[P_DT]
    first = sig.phase_ptr[j]
    last = sig.phase_ptr[j + 1]
    request = sig.tsp_phase[j]
    if request >= 0 and t < sig.tsp_until_s[j]:
        if request == p:  # green extension for the priority vehicle
            return min(max(sig.green_s[p], elapsed + dt), sig.green_s[p] + sig.tsp_max_ext_s[j])
        return max(sig.min_green_s[p], min(elapsed, sig.green_s[p]))  # early green elsewhere
    ctype = sig.ctrl_type[j]
    if ctype == FIXED:
        return sig.green_s[p]
    if elapsed < sig.min_green_s[p]:
        return sig.min_green_s[p]
    others_call = False
    for r in range(first, last):
        if r != p and _phase_has_call(j, r, t, net, sig, veh, st):
            others_call = True
            break
    if not others_call:
        return elapsed + dt  # rest in green: nobody else wants it
    if elapsed >= sig.max_green_s[p]:
        return sig.max_green_s[p]
    if ctype == ACTUATED:
        if _phase_has_call(j, p, t, net, sig, veh, st):
            st.sig_last_call_s[j] = t
        if t - st.sig_last_call_s[j] >= sig.passage_s[j]:
            return elapsed  # gap-out
        return elapsed + dt
    # max-pressure: at every decision instant, switch if another phase has more pressure
    since_min = elapsed - sig.min_green_s[p]
    period = sig.decision_s[j]
    if since_min - period * np.floor(since_min / period + 1e-9) > 1e-9:
        return elapsed + dt
    mine = _pressure(j, p, net, sig, st)
    for r in range(first, last):
        if r != p and _pressure(j, r, net, sig, st) > mine + 1e-12:
            return elapsed
    return elapsed + dt


@njit(cache=True)
def _next_phase(j, t, net, sig, veh, st):
    """The phase to serve after the current one."""
    p = st.sig_phase[j]
    first = sig.phase_ptr[j]
    n = sig.phase_ptr[j + 1] - first
    ctype = sig.ctrl_type[j]
    request = sig.tsp_phase[j]
    if ctype == MAX_PRESSURE and not (request >= 0 and t < sig.tsp_until_s[j]):
        best = -1
        best_w = -1e300
        for r in range(first, first + n):
            if r == p:
                continue
            w = _pressure(j, r, net, sig, st)
            if w > best_w + 1e-12:
                best_w = w
                best = r
        return best if best >= 0 else p
    nxt = first + (p - first + 1) % n
    if ctype == ACTUATED:
        for step in range(1, n + 1):
            r = first + (p - first + step) % n
            if r == request or _phase_has_call(j, r, t, net, sig, veh, st):
                return r
    return nxt


@njit(cache=True)
def _update_signals(t, net, sig, veh, st):
    """Resolve stage changes at time ``t`` and set every signalised movement's state."""
    n_junctions = len(sig.ctrl_type)
    for j in range(n_junctions):
        while True:
            p = st.sig_phase[j]
            stage = st.sig_stage[j]
            if stage == GREEN_STAGE:
                if sig.ctrl_type[j] == FIXED and not (sig.tsp_phase[j] >= 0 and t < sig.tsp_until_s[j]):
                    target = sig.green_s[p]  # the common case, without a (costly) call
                else:
                    target = _green_target_s(j, t, net, sig, veh, st)
                if st.sig_time_s[j] >= target - 1e-9:
                    # Carry a fraction of a step into the yellow (exact fixed-time cycles), but
                    # not a green held on by a priority request that has just expired.
                    st.sig_time_s[j] -= target
                    if st.sig_time_s[j] >= net.params[P_DT] - 1e-9:
                        st.sig_time_s[j] = 0.0
                    st.sig_next[j] = _next_phase(j, t, net, sig, veh, st)
                    if st.sig_next[j] == p:
                        st.sig_time_s[j] = 0.0  # stays: a max-pressure phase re-selected
                        break
                    st.sig_stage[j] = YELLOW_STAGE
                    continue
                break
            if stage == YELLOW_STAGE:
                if st.sig_time_s[j] >= sig.yellow_s[p] - 1e-9:
                    st.sig_time_s[j] -= sig.yellow_s[p]
                    st.sig_stage[j] = ALL_RED_STAGE
                    continue
                break
            if st.sig_time_s[j] >= sig.all_red_s[p] - 1e-9:
                st.sig_time_s[j] -= sig.all_red_s[p]
                st.sig_stage[j] = GREEN_STAGE
                st.sig_phase[j] = st.sig_next[j]
                st.sig_last_call_s[j] = t
                continue
            break
        p = st.sig_phase[j]
        stage = st.sig_stage[j]
        nxt = st.sig_next[j]
        base = sig.jmov_ptr[j]
        for k in range(sig.jmov_ptr[j + 1] - base):
            now = sig.phase_state[sig.state_ptr[p] + k]
            if stage != GREEN_STAGE and now >= PERMITTED:
                if sig.phase_state[sig.state_ptr[nxt] + k] < PERMITTED:
                    now = YELLOW if stage == YELLOW_STAGE else RED
            elif stage != GREEN_STAGE:
                now = RED
            m = sig.jmov[base + k]
            if now != st.mov_state[m]:
                st.mov_state[m] = now
                st.mov_since_s[m] = t


@njit(cache=True)
def _open(state, since_s, t, startup_lost_s, yellow_ext_s):
    """Whether a movement showing ``state`` since ``since_s`` may discharge at ``t``.

    Green after the start-up lost time, or yellow still used by drivers. (Scalars only: the
    kernel calls this in its hottest loops.)
    """
    if state >= PERMITTED:
        return t - since_s >= startup_lost_s - 1e-9
    if state == YELLOW:
        return t - since_s < yellow_ext_s - 1e-9
    return False


@njit(cache=True)
def _accrue(credit, amount, starved):
    """Credit after one step: banked up to max(1, amount) unless a vehicle was waiting for it."""
    credit += amount
    if starved == 0:
        credit = min(credit, max(1.0, amount))
    return credit


@njit(cache=True)
def _step(t, net, sig, veh, st):
    """One step [t, t + dt). The hot loops work on local arrays with their helpers written out:
    a call taking the Network/State tuples costs Numba reference counting on ~40 arrays."""
    dt = net.params[P_DT]
    startup = net.params[P_STARTUP_LOST]
    yext = net.params[P_YELLOW_EXT]
    gap = net.params[P_GAP]
    clearance = net.params[P_CLEARANCE]
    stop_delay = net.params[P_STOP_DELAY]
    t_end = t + dt
    _update_signals(t, net, sig, veh, st)

    mov_in = net.mov_in_link
    mov_out = net.mov_out_link
    mov_qptr = net.mov_queue_ptr
    mov_queues = net.mov_queues
    mov_state = st.mov_state
    mov_since = st.mov_since_s
    mov_rank = net.mov_rank
    mov_last = st.mov_last_s
    foe_ptr = net.foe_ptr
    foe_mov = net.foe_mov
    route_mov = veh.route_mov
    route_ptr = veh.route_ptr
    veh_pos = st.veh_pos
    veh_ready = st.veh_ready_s
    veh_enter = st.veh_enter_s
    veh_next = st.veh_next
    veh_queue = st.veh_queue
    q_head = st.queue_head
    q_tail = st.queue_tail
    q_count = st.queue_count
    q_credit = st.queue_credit
    q_starved = st.queue_starved
    link_occ = st.link_occ
    storage = net.link_storage_veh

    # Effective green seen by each movement (for v/c).
    n_movs = len(mov_in)
    for m in range(n_movs):
        if mov_out[m] >= 0 and _open(mov_state[m], mov_since[m], t, startup, yext):
            st.mov_open_s[m] += dt

    # Credits: the lane's saturation flow, times the turn factor of the car at its head,
    # accrues every step. It is banked (up to one vehicle or one step's worth) only while
    # nobody waits for it, so an idle lane serves the next arrival at once and a busy one
    # passes exactly its rate; a head facing red restarts from zero (start-up lost time).
    n_queues = len(net.queue_link)
    for q in range(n_queues):
        factor = 1.0
        v = q_head[q]
        if v >= 0:
            factor = net.mov_factor[route_mov[route_ptr[v] + veh_pos[v]]]
        q_credit[q] = _accrue(q_credit[q], net.queue_cap_veh_per_s[q] * factor * dt, q_starved[q])
        q_starved[q] = 0
    n_links = len(net.link_fft_s)
    for link in range(n_links):
        st.ins_credit[link] = _accrue(
            st.ins_credit[link], net.link_cap_veh_per_s[link] * dt, st.ins_starved[link]
        )
        st.ins_starved[link] = 0

    # Stop lines, queue by queue in index order.
    for q in range(n_queues):
        spillback = False
        while True:
            v = q_head[q]
            if v < 0 or veh_ready[v] >= t_end - 1e-9:
                break
            m = route_mov[route_ptr[v] + veh_pos[v]]
            link = mov_in[m]
            out = mov_out[m]
            e = max(veh_ready[v], t)
            if out >= 0:
                if not _open(mov_state[m], mov_since[m], t, startup, yext):
                    q_credit[q] = 0.0
                    break
                if q_credit[q] < 1.0 - 1e-9:
                    q_starved[q] = 1
                    break
                if link_occ[out] >= storage[out]:
                    spillback = True
                    break
                # Give way to a higher-priority conflicting movement that is moving or about to.
                mine = mov_state[m] * 4 + mov_rank[m]
                blocked = False
                for i in range(foe_ptr[m], foe_ptr[m + 1]):
                    f = foe_mov[i]
                    if mov_state[f] * 4 + mov_rank[f] <= mine:
                        continue
                    if not _open(mov_state[f], mov_since[f], t, startup, yext):
                        continue
                    if mov_last[f] > t - clearance:
                        blocked = True
                        break
                    for k in range(mov_qptr[f], mov_qptr[f + 1]):
                        w = q_head[mov_queues[k]]
                        if w >= 0 and veh_ready[w] < t + gap and route_mov[route_ptr[w] + veh_pos[w]] == f:
                            blocked = True
                            break
                    if blocked:
                        break
                if blocked:
                    break
            # Leave the link (crossing the junction, or arriving at the trip's end).
            q_head[q] = veh_next[v]
            if q_head[q] < 0:
                q_tail[q] = -1
            veh_next[v] = -1
            q_count[q] -= 1
            veh_queue[v] = -1
            link_occ[link] -= 1
            st.link_exited[link] += 1
            st.link_time_sum_s[link] += e - veh_enter[v]
            delay = e - veh_ready[v]
            st.mov_passed[m] += 1
            st.veh_delay_s[v] += delay
            st.counters[C_MOVES] += 1
            if out < 0:  # end of the trip: the sink never blocks
                st.veh_arrive_s[v] = e
                st.counters[C_EXITED] += 1
                continue
            q_credit[q] -= 1.0
            st.mov_delay_sum_s[m] += delay
            if delay > stop_delay:
                st.mov_stops[m] += 1
            mov_last[m] = e
            veh_pos[v] += 1
            _join(v, out, e, net.mov_extra_s[m], delay > stop_delay, net, veh, st)
        if not spillback:
            st.queue_blocked_s[q] = -1.0
        elif st.queue_blocked_s[q] < 0.0:
            st.queue_blocked_s[q] = t

    # Departures join their first link's origin list; insertion takes storage and capacity.
    n_veh = len(veh.depart_s)
    k = st.counters[C_NEXT_DEPART]
    while k < n_veh and veh.depart_s[veh.depart_order[k]] < t_end - 1e-9:
        v = veh.depart_order[k]
        link = veh.route_link[route_ptr[v]]
        veh_next[v] = -1
        if st.orig_tail[link] < 0:
            st.orig_head[link] = v
        else:
            veh_next[st.orig_tail[link]] = v
        st.orig_tail[link] = v
        k += 1
    st.counters[C_NEXT_DEPART] = k
    from_rest = net.params[P_DEPART_REST] > 0.5
    for link in range(n_links):
        while st.orig_head[link] >= 0:
            if link_occ[link] >= storage[link]:
                break
            if st.ins_credit[link] < 1.0 - 1e-9:
                st.ins_starved[link] = 1
                break
            v = st.orig_head[link]
            st.orig_head[link] = veh_next[v]
            if st.orig_head[link] < 0:
                st.orig_tail[link] = -1
            veh_next[v] = -1
            st.ins_credit[link] -= 1.0
            e = max(veh.depart_s[v], t)
            st.veh_start_s[v] = e
            veh_pos[v] = 0
            st.counters[C_ENTERED] += 1
            st.counters[C_MOVES] += 1
            _join(v, link, e, 0.0, from_rest, net, veh, st)

    # Standing queues: the vehicles at the head of each queue that have reached the stop line.
    for q in range(n_queues):
        count = 0
        v = q_head[q]
        while v >= 0 and veh_ready[v] < t_end - 1e-9:
            count += 1
            v = veh_next[v]
        st.queue_now[q] = count
        if count > st.queue_max[q]:
            st.queue_max[q] = count
        st.queue_sum[q] += count * dt

    for j in range(len(sig.ctrl_type)):
        st.sig_time_s[j] += dt


@njit(cache=True)
def _join(v, link, e, crossing_s, from_rest, net, veh, st):
    """Vehicle ``v`` enters ``link`` at ``e``, reaches its stop line after the junction crossing
    (``crossing_s``) and the link's free-flow time, and joins the least-occupied lane queue that
    serves its next movement (the first on ties).

    ``from_rest``: it stopped (or departs) just before, so it pays the acceleration loss.
    (Called once per vehicle and link, so passing the tuples here is affordable.)
    """
    extra = crossing_s
    if from_rest:
        extra += net.link_accel_loss_s[link]
    ready = e + extra + net.link_fft_s[link]
    st.veh_enter_s[v] = e
    st.veh_ready_s[v] = ready
    st.link_occ[link] += 1
    st.link_entered[link] += 1
    m = veh.route_mov[veh.route_ptr[v] + st.veh_pos[v]]
    st.mov_joined[m] += 1
    best = net.mov_queues[net.mov_queue_ptr[m]]
    for i in range(net.mov_queue_ptr[m] + 1, net.mov_queue_ptr[m + 1]):
        q = net.mov_queues[i]
        if st.queue_count[q] < st.queue_count[best]:
            best = q
    st.veh_queue[v] = best
    st.queue_count[best] += 1
    st.veh_next[v] = -1
    if st.queue_tail[best] < 0:
        st.queue_head[best] = v
    else:
        st.veh_next[st.queue_tail[best]] = v
    st.queue_tail[best] = v


@njit(cache=True)
def advance(t0_s, n_steps, net, sig, veh, st, conservation):
    """Advance the model ``n_steps`` steps of ``net.params[P_DT]`` from ``t0_s``, in place.

    Parameters
    ----------
    t0_s
        Simulated time at the start of the first step (s).
    n_steps
        Number of steps.
    net, sig, veh, st
        :class:`Network`, :class:`Signals`, :class:`Vehicles` and :class:`State` (updated).
    conservation
        ``int64[n_steps, 3]`` filled with ``entered, exited, in network`` after each step (a
        zero-row array skips the record).

    Returns
    -------
    float
        The time after the last step (s).
    """
    dt = net.params[P_DT]
    t = t0_s
    record = conservation.shape[0] >= n_steps
    for i in range(n_steps):
        _step(t, net, sig, veh, st)
        t = t0_s + (i + 1) * dt
        if record:
            conservation[i, 0] = st.counters[C_ENTERED]
            conservation[i, 1] = st.counters[C_EXITED]
            conservation[i, 2] = st.link_occ.sum()
    return t


# --------------------------------------------------------------------------------------------
# The plain-Python reference
# --------------------------------------------------------------------------------------------


class _ReferenceModel:
    """The same model written for reading: deques for queues, plain loops, no linked lists.

    It keeps its own queues and copies them back into ``st`` after each call, so the kernel
    and the reference can be compared field by field.
    """

    def __init__(self, net: Network, sig: Signals, veh: Vehicles, st: State) -> None:
        self.net, self.sig, self.veh, self.st = net, sig, veh, st
        self.queues = [deque(_walk(st.queue_head[q], st.veh_next)) for q in range(len(net.queue_link))]
        self.origins = [deque(_walk(st.orig_head[i], st.veh_next)) for i in range(len(net.link_fft_s))]
        self.movs_of = [list(range(sig.jmov_ptr[j], sig.jmov_ptr[j + 1])) for j in range(len(sig.ctrl_type))]
        self.lanes_of = [
            list(net.mov_queues[net.mov_queue_ptr[m] : net.mov_queue_ptr[m + 1]])
            for m in range(len(net.mov_in_link))
        ]

    # -- helpers -------------------------------------------------------------------------------
    def movement_of(self, v: int) -> int:
        return int(self.veh.route_mov[self.veh.route_ptr[v] + self.st.veh_pos[v]])

    def head_movement(self, q: int) -> int:
        return self.movement_of(self.queues[q][0]) if self.queues[q] else -1

    def state_in(self, p: int, k: int) -> int:
        return int(self.sig.phase_state[self.sig.state_ptr[p] + k])

    def is_open(self, m: int, t: float) -> bool:
        state, since = self.st.mov_state[m], self.st.mov_since_s[m]
        if state >= PERMITTED:
            return t - since >= self.net.params[P_STARTUP_LOST] - 1e-9
        if state == YELLOW:
            return t - since < self.net.params[P_YELLOW_EXT] - 1e-9
        return False

    def has_call(self, j: int, p: int, t: float) -> bool:
        lead = self.net.params[P_DETECTOR_LEAD]
        for k, slot in enumerate(self.movs_of[j]):
            if self.state_in(p, k) < PERMITTED:
                continue
            for q in self.lanes_of[self.sig.jmov[slot]]:
                queue = self.queues[q]
                if queue and self.st.veh_ready_s[queue[0]] <= t + lead:
                    m = self.head_movement(q)
                    if self.net.mov_junction[m] == j and self.state_in(p, self.net.mov_local[m]) >= PERMITTED:
                        return True
        return False

    def pressure(self, j: int, p: int) -> float:
        net, st = self.net, self.st
        total = 0.0
        for k, slot in enumerate(self.movs_of[j]):
            if self.state_in(p, k) < PERMITTED:
                continue
            m = self.sig.jmov[slot]
            waiting = sum(int(st.queue_now[q]) for q in self.lanes_of[m])
            upstream = waiting / max(net.link_storage_veh[net.mov_in_link[m]], 1)
            out = net.mov_out_link[m]
            downstream = st.link_occ[out] / max(net.link_storage_veh[out], 1) if out >= 0 else 0.0
            total += net.mov_cap_veh_per_s[m] * (upstream - downstream)
        return total

    def phases(self, j: int) -> range:
        return range(self.sig.phase_ptr[j], self.sig.phase_ptr[j + 1])

    # -- signals -------------------------------------------------------------------------------
    def green_target(self, j: int, t: float) -> float:
        sig, st = self.sig, self.st
        p, elapsed, dt = st.sig_phase[j], st.sig_time_s[j], self.net.params[P_DT]
        if sig.tsp_phase[j] >= 0 and t < sig.tsp_until_s[j]:
            if sig.tsp_phase[j] == p:
                return min(max(sig.green_s[p], elapsed + dt), sig.green_s[p] + sig.tsp_max_ext_s[j])
            return max(sig.min_green_s[p], min(elapsed, sig.green_s[p]))
        if sig.ctrl_type[j] == FIXED:
            return sig.green_s[p]
        if elapsed < sig.min_green_s[p]:
            return sig.min_green_s[p]
        if not any(self.has_call(j, r, t) for r in self.phases(j) if r != p):
            return elapsed + dt
        if elapsed >= sig.max_green_s[p]:
            return sig.max_green_s[p]
        if sig.ctrl_type[j] == ACTUATED:
            if self.has_call(j, p, t):
                st.sig_last_call_s[j] = t
            return elapsed if t - st.sig_last_call_s[j] >= sig.passage_s[j] else elapsed + dt
        since_min = elapsed - sig.min_green_s[p]
        period = sig.decision_s[j]
        if since_min - period * np.floor(since_min / period + 1e-9) > 1e-9:
            return elapsed + dt
        mine = self.pressure(j, p)
        if any(self.pressure(j, r) > mine + 1e-12 for r in self.phases(j) if r != p):
            return elapsed
        return elapsed + dt

    def next_phase(self, j: int, t: float) -> int:
        sig, st = self.sig, self.st
        p = st.sig_phase[j]
        phases = list(self.phases(j))
        request_active = sig.tsp_phase[j] >= 0 and t < sig.tsp_until_s[j]
        if sig.ctrl_type[j] == MAX_PRESSURE and not request_active:
            best, best_w = -1, -1e300
            for r in phases:
                if r != p:
                    w = self.pressure(j, r)
                    if w > best_w + 1e-12:
                        best, best_w = r, w
            return best if best >= 0 else p
        i = phases.index(p)
        rotation = phases[i + 1 :] + phases[: i + 1]
        if sig.ctrl_type[j] == ACTUATED:
            for r in rotation:
                if r == sig.tsp_phase[j] or self.has_call(j, r, t):
                    return r
        return rotation[0]

    def update_signals(self, t: float) -> None:
        sig, st = self.sig, self.st
        for j in range(len(sig.ctrl_type)):
            while True:
                p, stage = st.sig_phase[j], st.sig_stage[j]
                if stage == GREEN_STAGE:
                    target = self.green_target(j, t)
                    if st.sig_time_s[j] < target - 1e-9:
                        break
                    st.sig_time_s[j] -= target
                    if st.sig_time_s[j] >= self.net.params[P_DT] - 1e-9:
                        st.sig_time_s[j] = 0.0
                    st.sig_next[j] = self.next_phase(j, t)
                    if st.sig_next[j] == p:
                        st.sig_time_s[j] = 0.0
                        break
                    st.sig_stage[j] = YELLOW_STAGE
                elif stage == YELLOW_STAGE:
                    if st.sig_time_s[j] < sig.yellow_s[p] - 1e-9:
                        break
                    st.sig_time_s[j] -= sig.yellow_s[p]
                    st.sig_stage[j] = ALL_RED_STAGE
                else:
                    if st.sig_time_s[j] < sig.all_red_s[p] - 1e-9:
                        break
                    st.sig_time_s[j] -= sig.all_red_s[p]
                    st.sig_stage[j] = GREEN_STAGE
                    st.sig_phase[j] = st.sig_next[j]
                    st.sig_last_call_s[j] = t
            p, stage, nxt = st.sig_phase[j], st.sig_stage[j], st.sig_next[j]
            for k, slot in enumerate(self.movs_of[j]):
                now = self.state_in(p, k)
                if stage != GREEN_STAGE:
                    if now >= PERMITTED and self.state_in(nxt, k) >= PERMITTED:
                        pass  # green in both phases: stays green through the transition
                    else:
                        now = YELLOW if (stage == YELLOW_STAGE and now >= PERMITTED) else RED
                m = sig.jmov[slot]
                if now != st.mov_state[m]:
                    st.mov_state[m], st.mov_since_s[m] = now, t

    # -- vehicles ------------------------------------------------------------------------------
    def must_yield(self, m: int, t: float) -> bool:
        net, st = self.net, self.st
        gap = net.params[P_GAP]
        clearance = net.params[P_CLEARANCE]
        mine = st.mov_state[m] * 4 + net.mov_rank[m]
        for f in net.foe_mov[net.foe_ptr[m] : net.foe_ptr[m + 1]]:
            if not self.is_open(f, t) or st.mov_state[f] * 4 + net.mov_rank[f] <= mine:
                continue
            if st.mov_last_s[f] > t - clearance:
                return True
            for q in self.lanes_of[f]:
                queue = self.queues[q]
                if queue and st.veh_ready_s[queue[0]] < t + gap and self.head_movement(q) == f:
                    return True
        return False

    def enter(self, v: int, link: int, m_in: int, e: float, from_rest: bool) -> None:
        net, st = self.net, self.st
        extra = net.mov_extra_s[m_in] if m_in >= 0 else 0.0
        if from_rest:
            extra += net.link_accel_loss_s[link]
        st.veh_enter_s[v] = e
        st.veh_ready_s[v] = e + extra + net.link_fft_s[link]
        st.link_occ[link] += 1
        st.link_entered[link] += 1
        m = self.movement_of(v)
        st.mov_joined[m] += 1
        lanes = self.lanes_of[m]
        q = min(lanes, key=lambda lane: (len(self.queues[lane]), lanes.index(lane)))
        st.veh_queue[v] = q
        self.queues[q].append(v)

    def leave(self, v: int, q: int, link: int, e: float) -> None:
        st = self.st
        self.queues[q].popleft()
        st.veh_queue[v] = -1
        st.link_occ[link] -= 1
        st.link_exited[link] += 1
        st.link_time_sum_s[link] += e - st.veh_enter_s[v]

    @staticmethod
    def accrue(credit: float, amount: float, starved: int) -> float:
        credit += amount
        return credit if starved else min(credit, max(1.0, amount))

    def step(self, t: float) -> None:
        net, veh, st = self.net, self.veh, self.st
        dt = net.params[P_DT]
        t_end = t + dt
        self.update_signals(t)
        for m in range(len(net.mov_in_link)):
            if net.mov_out_link[m] >= 0 and self.is_open(m, t):
                st.mov_open_s[m] += dt
        for q in range(len(self.queues)):
            m = self.head_movement(q)
            factor = net.mov_factor[m] if m >= 0 else 1.0
            st.queue_credit[q] = self.accrue(
                st.queue_credit[q], net.queue_cap_veh_per_s[q] * factor * dt, st.queue_starved[q]
            )
            st.queue_starved[q] = 0
        for link in range(len(net.link_fft_s)):
            st.ins_credit[link] = self.accrue(
                st.ins_credit[link], net.link_cap_veh_per_s[link] * dt, st.ins_starved[link]
            )
            st.ins_starved[link] = 0

        for q, queue in enumerate(self.queues):
            spillback = False
            while queue and st.veh_ready_s[queue[0]] < t_end - 1e-9:
                v = queue[0]
                m = self.movement_of(v)
                link, out = net.mov_in_link[m], net.mov_out_link[m]
                e = max(st.veh_ready_s[v], t)
                if out < 0:
                    self.leave(v, q, link, e)
                    st.mov_passed[m] += 1
                    st.veh_arrive_s[v] = e
                    st.veh_delay_s[v] += e - st.veh_ready_s[v]
                    st.counters[C_EXITED] += 1
                    st.counters[C_MOVES] += 1
                    continue
                if not self.is_open(m, t):
                    st.queue_credit[q] = 0.0  # red: the next green starts from a standstill
                    break
                if st.queue_credit[q] < 1.0 - 1e-9:
                    st.queue_starved[q] = 1
                    break
                if st.link_occ[out] >= net.link_storage_veh[out]:
                    spillback = True  # downstream full: the queue waits for space
                    break
                if self.must_yield(m, t):
                    break
                self.leave(v, q, link, e)
                st.queue_credit[q] -= 1.0
                delay = e - st.veh_ready_s[v]
                st.mov_passed[m] += 1
                st.mov_delay_sum_s[m] += delay
                st.mov_stops[m] += int(delay > net.params[P_STOP_DELAY])
                st.mov_last_s[m] = e
                st.veh_delay_s[v] += delay
                st.veh_pos[v] += 1
                st.counters[C_MOVES] += 1
                self.enter(v, out, m, e, delay > net.params[P_STOP_DELAY])
            if not spillback:
                st.queue_blocked_s[q] = -1.0
            elif st.queue_blocked_s[q] < 0.0:
                st.queue_blocked_s[q] = t

        k = st.counters[C_NEXT_DEPART]
        while k < len(veh.depart_s) and veh.depart_s[veh.depart_order[k]] < t_end - 1e-9:
            v = veh.depart_order[k]
            self.origins[veh.route_link[veh.route_ptr[v]]].append(v)
            k += 1
        st.counters[C_NEXT_DEPART] = k
        for link, waiting in enumerate(self.origins):
            while waiting and st.link_occ[link] < net.link_storage_veh[link]:
                if st.ins_credit[link] < 1.0 - 1e-9:
                    st.ins_starved[link] = 1
                    break
                v = waiting.popleft()
                st.ins_credit[link] -= 1.0
                e = max(veh.depart_s[v], t)
                st.veh_start_s[v] = e
                st.veh_pos[v] = 0
                st.counters[C_ENTERED] += 1
                st.counters[C_MOVES] += 1
                self.enter(v, link, -1, e, net.params[P_DEPART_REST] > 0.5)

        for q, queue in enumerate(self.queues):
            count = 0
            for v in queue:
                if st.veh_ready_s[v] >= t_end - 1e-9:
                    break
                count += 1
            st.queue_now[q] = count
            st.queue_count[q] = len(queue)
            st.queue_max[q] = max(st.queue_max[q], count)
            st.queue_sum[q] += count * dt
        st.sig_time_s[:] += dt

    def write_back(self) -> None:
        """Store the deques as the kernel's linked lists, so both states compare equal."""
        st = self.st
        st.veh_next[:] = -1
        for lists, head, tail in (
            (self.queues, st.queue_head, st.queue_tail),
            (self.origins, st.orig_head, st.orig_tail),
        ):
            for i, items in enumerate(lists):
                head[i] = items[0] if items else -1
                tail[i] = items[-1] if items else -1
                for a, b in zip(list(items)[:-1], list(items)[1:], strict=True):
                    st.veh_next[a] = b
        for q, items in enumerate(self.queues):
            st.queue_count[q] = len(items)


def _walk(head: int, nxt: np.ndarray) -> list[int]:
    items = []
    while head >= 0:
        items.append(int(head))
        head = nxt[head]
    return items


def advance_reference(t0_s, n_steps, net, sig, veh, st, conservation):
    """Plain-Python twin of :func:`advance` (same arguments, same in-place result)."""
    model = _ReferenceModel(net, sig, veh, st)
    dt = net.params[P_DT]
    t = t0_s
    for i in range(n_steps):
        model.step(t)
        t = t0_s + (i + 1) * dt
        if conservation.shape[0] >= n_steps:
            conservation[i] = (st.counters[C_ENTERED], st.counters[C_EXITED], st.link_occ.sum())
    model.write_back()
    return t
