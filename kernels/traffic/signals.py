"""The signal controllers of the traffic kernel: per-junction state machines.

Each junction runs green, yellow and all-red stages over its phases. How long a green lasts and
which phase follows depend on the controller type (:data:`~kernels.traffic.layout.FIXED`,
:data:`~kernels.traffic.layout.ACTUATED` or :data:`~kernels.traffic.layout.MAX_PRESSURE`) and on an
active transit priority request. :func:`update_signals` resolves the stage changes at a time and
sets every signalised movement's state.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.traffic.layout import (
    ACTUATED,
    ALL_RED_STAGE,
    FIXED,
    GREEN_STAGE,
    MAX_PRESSURE,
    P_DETECTOR_LEAD,
    P_DT,
    PERMITTED,
    RED,
    YELLOW,
    YELLOW_STAGE,
)


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
def update_signals(t, net, sig, veh, st):
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
