"""One step of the traffic kernel, and :func:`advance`, which runs many.

A step ``[t, t + dt)`` reads as the story of the model: the signals change stage, open movements
count their effective green, lanes and origins accrue discharge credit, queue heads cross their
junctions (or end their trips), departures enter their first links, and the vehicles standing at
each stop line are counted.

The hot loops work on local arrays with their helpers written out: a Numba call that takes the
``Network``/``State`` tuples costs reference counting on ~40 arrays (~0.4 µs), which made the first
version 18 times slower at district scale. The phases of a step take the tuples, since each is
called once a step.
"""

from __future__ import annotations

from numba import njit

from kernels.traffic.layout import (
    C_ENTERED,
    C_EXITED,
    C_MOVES,
    C_NEXT_DEPART,
    P_CLEARANCE,
    P_DEPART_REST,
    P_DT,
    P_GAP,
    P_STARTUP_LOST,
    P_STOP_DELAY,
    P_YELLOW_EXT,
    PERMITTED,
    YELLOW,
)
from kernels.traffic.signals import update_signals


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
def _count_open_time(t, net, st):
    """Add the step to the effective green of every open movement (for v/c)."""
    dt = net.params[P_DT]
    startup = net.params[P_STARTUP_LOST]
    yext = net.params[P_YELLOW_EXT]
    mov_out = net.mov_out_link
    mov_state = st.mov_state
    mov_since = st.mov_since_s
    for m in range(len(net.mov_in_link)):
        if mov_out[m] >= 0 and _open(mov_state[m], mov_since[m], t, startup, yext):
            st.mov_open_s[m] += dt


@njit(cache=True)
def _accrue_credits(net, veh, st):
    """Discharge credit of every lane queue and insertion credit of every link, for one step.

    A lane's credit is its saturation flow times the turn factor of the car at its head. It is
    banked (up to one vehicle or one step's worth) only while nobody waits for it, so an idle lane
    serves the next arrival at once and a busy one passes exactly its rate; a head facing red
    restarts from zero (start-up lost time).
    """
    dt = net.params[P_DT]
    route_mov = veh.route_mov
    route_ptr = veh.route_ptr
    veh_pos = st.veh_pos
    q_head = st.queue_head
    q_credit = st.queue_credit
    q_starved = st.queue_starved
    for q in range(len(net.queue_link)):
        factor = 1.0
        v = q_head[q]
        if v >= 0:
            factor = net.mov_factor[route_mov[route_ptr[v] + veh_pos[v]]]
        q_credit[q] = _accrue(q_credit[q], net.queue_cap_veh_per_s[q] * factor * dt, q_starved[q])
        q_starved[q] = 0
    for link in range(len(net.link_fft_s)):
        st.ins_credit[link] = _accrue(
            st.ins_credit[link], net.link_cap_veh_per_s[link] * dt, st.ins_starved[link]
        )
        st.ins_starved[link] = 0


# long: the model's hottest loop (every queue head, every step); its helpers are written out
# because a Numba call taking the Network/State tuples costs reference counting on ~40 arrays.
@njit(cache=True)
def _discharge_stop_lines(t, net, veh, st):
    """Queue heads that have reached their stop line cross the junction or end their trip.

    Queue by queue in index order, a head leaves when its movement is open, its lane has credit,
    the next link has storage (else the queue is blocked by spillback) and it need not give way
    to a higher-priority conflicting movement that is moving or about to.
    """
    startup = net.params[P_STARTUP_LOST]
    yext = net.params[P_YELLOW_EXT]
    gap = net.params[P_GAP]
    clearance = net.params[P_CLEARANCE]
    stop_delay = net.params[P_STOP_DELAY]
    t_end = t + net.params[P_DT]
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
    for q in range(len(net.queue_link)):
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


@njit(cache=True)
def _insert_departures(t, net, veh, st):
    """Departures join their first link's origin list; insertion takes storage and capacity."""
    t_end = t + net.params[P_DT]
    route_ptr = veh.route_ptr
    veh_next = st.veh_next
    link_occ = st.link_occ
    storage = net.link_storage_veh
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
    for link in range(len(net.link_fft_s)):
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
            st.veh_pos[v] = 0
            st.counters[C_ENTERED] += 1
            st.counters[C_MOVES] += 1
            _join(v, link, e, 0.0, from_rest, net, veh, st)


@njit(cache=True)
def _count_standing(t, net, st):
    """Standing queues: the vehicles at the head of each queue that have reached the stop line."""
    dt = net.params[P_DT]
    t_end = t + dt
    q_head = st.queue_head
    veh_ready = st.veh_ready_s
    veh_next = st.veh_next
    for q in range(len(net.queue_link)):
        count = 0
        v = q_head[q]
        while v >= 0 and veh_ready[v] < t_end - 1e-9:
            count += 1
            v = veh_next[v]
        st.queue_now[q] = count
        if count > st.queue_max[q]:
            st.queue_max[q] = count
        st.queue_sum[q] += count * dt


@njit(cache=True)
def _step(t, net, sig, veh, st):
    """One step [t, t + dt), phase by phase."""
    update_signals(t, net, sig, veh, st)
    _count_open_time(t, net, st)
    _accrue_credits(net, veh, st)
    _discharge_stop_lines(t, net, veh, st)
    _insert_departures(t, net, veh, st)
    _count_standing(t, net, st)
    dt = net.params[P_DT]
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
