"""The arrays of the traffic kernel: network, signals, vehicles and state, and their codes.

:class:`Network`, :class:`Signals` and :class:`Vehicles` are static during a run (except the green
times adaptive control rewrites); :class:`State` is everything that changes, updated in place.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

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

    The wrapper (:meth:`twin.traffic.signals.controller.SignalController.set_initial_positions`) then places each
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
