"""The plain-Python twin of the traffic kernel, written for reading.

:func:`advance_reference` takes the same arguments as :func:`kernels.traffic.step.advance` and
gives the same state, field for field; it keeps queues in deques instead of linked lists and
writes them back into the kernel's arrays when it returns.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from kernels.traffic.layout import (
    ACTUATED,
    ALL_RED_STAGE,
    C_ENTERED,
    C_EXITED,
    C_MOVES,
    C_NEXT_DEPART,
    FIXED,
    GREEN_STAGE,
    MAX_PRESSURE,
    P_CLEARANCE,
    P_DEPART_REST,
    P_DETECTOR_LEAD,
    P_DT,
    P_GAP,
    P_STARTUP_LOST,
    P_STOP_DELAY,
    P_YELLOW_EXT,
    PERMITTED,
    RED,
    YELLOW,
    YELLOW_STAGE,
    Network,
    Signals,
    State,
    Vehicles,
)


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
        """One step [t, t + dt), phase by phase as the kernel's ``_step``."""
        self.update_signals(t)
        self.count_open_time(t)
        self.accrue_credits()
        for q in range(len(self.queues)):
            self.discharge(q, t)
        self.insert_departures(t)
        self.count_standing(t)
        self.st.sig_time_s[:] += self.net.params[P_DT]

    def count_open_time(self, t: float) -> None:
        net, st = self.net, self.st
        for m in range(len(net.mov_in_link)):
            if net.mov_out_link[m] >= 0 and self.is_open(m, t):
                st.mov_open_s[m] += net.params[P_DT]

    def accrue_credits(self) -> None:
        net, st = self.net, self.st
        dt = net.params[P_DT]
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

    def discharge(self, q: int, t: float) -> None:
        """The heads of queue ``q`` that may leave cross their junction or end their trip."""
        net, st = self.net, self.st
        queue = self.queues[q]
        t_end = t + net.params[P_DT]
        spillback = False
        while queue and st.veh_ready_s[queue[0]] < t_end - 1e-9:
            v = queue[0]
            m = self.movement_of(v)
            link, out = net.mov_in_link[m], net.mov_out_link[m]
            e = max(st.veh_ready_s[v], t)
            if out < 0:
                self.arrive(v, q, m, link, e)
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
            self.cross(v, q, m, link, out, e)
        if not spillback:
            st.queue_blocked_s[q] = -1.0
        elif st.queue_blocked_s[q] < 0.0:
            st.queue_blocked_s[q] = t

    def arrive(self, v: int, q: int, m: int, link: int, e: float) -> None:
        """Vehicle ``v`` ends its trip at the end of ``link`` at ``e`` (a sink never blocks)."""
        st = self.st
        self.leave(v, q, link, e)
        st.mov_passed[m] += 1
        st.veh_arrive_s[v] = e
        st.veh_delay_s[v] += e - st.veh_ready_s[v]
        st.counters[C_EXITED] += 1
        st.counters[C_MOVES] += 1

    def cross(self, v: int, q: int, m: int, link: int, out: int, e: float) -> None:
        """Vehicle ``v`` crosses the junction on movement ``m`` at ``e`` into link ``out``."""
        net, st = self.net, self.st
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

    def insert_departures(self, t: float) -> None:
        net, veh, st = self.net, self.veh, self.st
        t_end = t + net.params[P_DT]
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

    def count_standing(self, t: float) -> None:
        st = self.st
        dt = self.net.params[P_DT]
        t_end = t + dt
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
