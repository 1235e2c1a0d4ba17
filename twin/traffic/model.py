"""The traffic model: trips on a network under signal control, advanced by one SimPy process.

:class:`TrafficModel` runs :class:`~twin.traffic.trips.Trips` on a
:class:`~twin.traffic.network.TrafficNetwork` under a
:class:`~twin.traffic.signals.controller.SignalController`, advancing the kernel
(:func:`kernels.traffic.step.advance`) in blocks of ``sync_interval_s`` on the engine's clock so
that other processes (buses asking for priority) interleave with it. It watches for gridlock and
turns the kernel's counters into trip information, per-link counts, speeds and queues by time
of day, junction measures and a :class:`twin.city.travel_times.TimeOfDayTravelTimes` for other
layers. :func:`simulate` is the one-call run; :func:`run_until_done` runs until every trip ends.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from kernels.traffic.layout import C_MOVES, PERMITTED, new_state
from kernels.traffic.reference import advance_reference
from kernels.traffic.step import advance
from twin.city.travel_times import FreeFlowTravelTimes, TimeOfDayTravelTimes
from twin.engine import Engine
from twin.traffic.network import TrafficNetwork
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.timing import TimingParams
from twin.traffic.trips import Trips

if TYPE_CHECKING:
    import simpy

log = logging.getLogger(__name__)


@dataclass
class Gridlock:
    """A cycle of full links whose heads wait for each other."""

    time_s: float
    links: list[str]
    nodes: list


class TrafficModel:
    """Trips on a network under signal control, advanced by one SimPy process.

    Parameters
    ----------
    network
        The :class:`~twin.traffic.network.TrafficNetwork`.
    controller
        The :class:`~twin.traffic.signals.controller.SignalController` (its arrays drive the kernel's signals).
    trips
        The vehicles.
    begin_s
        Simulated time (s) at which the model starts (trip departure times are on this clock;
        the engine's time 0 is ``begin_s``).
    use_reference
        Run the plain-Python reference instead of the Numba kernel (tests only; slow).
    """

    def __init__(
        self,
        network: TrafficNetwork,
        controller: SignalController,
        trips: Trips,
        begin_s: float = 0.0,
        use_reference: bool = False,
    ) -> None:
        self.network = network
        self.controller = controller
        self.trips = trips
        self.begin_s = float(begin_s)
        self.time_s = float(begin_s)
        self.use_reference = use_reference
        self.net = network.kernel_network()
        self.veh = trips.kernel_vehicles(network)
        self.state = new_state(self.net, controller.arrays, self.veh)
        controller.set_initial_positions(self.state)
        self._init_unsignalised_states()
        self.snapshots: list[dict[str, np.ndarray]] = []
        self._queue_samples: list[np.ndarray] = []
        self.gridlocks: list[Gridlock] = []
        self._gridlock_seen: set[frozenset] = set()
        self._last_moves = 0
        self._last_move_time = self.time_s
        self.stalled_at_s: float | None = None
        self.kernel_calls = 0
        self.measure_from_s = self.time_s
        self._base: dict[str, np.ndarray] = {}
        self._snapshot()

    def _init_unsignalised_states(self) -> None:
        """Movements outside signal controllers are permanently permitted green (yield by rank)."""
        signalled = np.zeros(self.network.n_movements, dtype=bool)
        for movements in self.network.controllers.values():
            signalled[list(movements)] = True
        self.state.mov_state[~signalled] = PERMITTED

    # -- running -------------------------------------------------------------------------------
    def advance_to(self, end_s: float) -> None:
        """Advance the kernel to ``end_s`` (whole steps) and collect statistics on the way."""
        dt = self.network.params.step_s
        step = advance_reference if self.use_reference else advance
        empty = np.zeros((0, 3), np.int64)
        while self.time_s < end_s - 1e-9:
            n = max(1, int(round(min(self.network.params.sync_interval_s, end_s - self.time_s) / dt)))
            next_bin = self._next_bin_s()
            if self.time_s + n * dt > next_bin + 1e-9:
                n = max(1, int(round((next_bin - self.time_s) / dt)))
            self.time_s = float(
                step(self.time_s, n, self.net, self.controller.arrays, self.veh, self.state, empty)
            )
            self.kernel_calls += 1
            self._after_block()

    def process(self, engine: Engine, duration_s: float) -> Generator[simpy.Event, None, None]:
        """The SimPy process: advance by ``sync_interval_s`` blocks, letting others interleave."""
        end_s = self.begin_s + duration_s
        while self.time_s < end_s - 1e-9:
            block_end = min(self.time_s + self.network.params.sync_interval_s, end_s)
            self.advance_to(block_end)
            yield engine.env.timeout(max(self.time_s - self.begin_s - engine.env.now, 0.0))

    def attach(self, engine: Engine, duration_s: float | None = None) -> simpy.Process:
        """Start the model's process on ``engine`` (for ``duration_s``, default the engine's)."""
        return engine.process(self.process(engine, engine.duration_s if duration_s is None else duration_s))

    def _next_bin_s(self) -> float:
        """The next time-of-day bin boundary: bins are whole multiples of ``stats_bin_s`` on the
        model's clock (so 07:00, 07:15, ... when time 0 is a quarter hour)."""
        bin_s = self.network.params.stats_bin_s
        return (math.floor(self.time_s / bin_s + 1e-9) + 1) * bin_s

    def _after_block(self) -> None:
        self._queue_samples.append(self.state.queue_now.copy())
        bin_s = self.network.params.stats_bin_s
        if abs(self.time_s / bin_s - round(self.time_s / bin_s)) < 1e-9:
            self._snapshot()
        self.controller.after_block(self.time_s, self.state)
        self._check_gridlock()

    def _snapshot(self) -> None:
        self.snapshots.append(self._current())
        self._queue_samples = []

    def _snapshots_to_now(self) -> list[dict]:
        """The bin snapshots, plus one for now if the run ended inside a bin."""
        if self.snapshots and self.snapshots[-1]["time_s"] < self.time_s - 1e-9:
            return [*self.snapshots, self._current()]
        return self.snapshots

    def _current(self) -> dict:
        """Cumulative link counters now, and the largest queue sampled since the last bin."""
        st = self.state
        link_queue = np.zeros(self.network.n_links)
        np.add.at(link_queue, self.network.queue_link, st.queue_sum)
        samples = np.array(self._queue_samples) if self._queue_samples else np.zeros((1, len(st.queue_now)))
        queue_max = np.zeros(self.network.n_links)
        np.maximum.at(queue_max, self.network.queue_link, samples.max(axis=0))
        return {
            "time_s": self.time_s,
            "entered": st.link_entered.copy(),
            "exited": st.link_exited.copy(),
            "time_sum_s": st.link_time_sum_s.copy(),
            "queue_sum": link_queue,
            "queue_max": queue_max,
            "occupancy": st.link_occ.copy(),
        }

    def _check_gridlock(self) -> None:
        """Report cycles of spillback that have not moved for ``gridlock_after_s``."""
        st, net = self.state, self.network
        moves = int(st.counters[C_MOVES])
        if moves != self._last_moves:
            self._last_moves, self._last_move_time = moves, self.time_s
        in_network = int(st.link_occ.sum())
        if (
            in_network
            and self.time_s - self._last_move_time >= net.params.gridlock_after_s
            and self.stalled_at_s is None
        ):
            self.stalled_at_s = self.time_s
        blocked = np.nonzero(
            (st.queue_blocked_s >= 0) & (self.time_s - st.queue_blocked_s >= net.params.gridlock_after_s)
        )[0]
        if not len(blocked):
            return
        waits = nx.DiGraph()
        for q in blocked:
            v = st.queue_head[q]
            if v < 0:
                continue
            m = self.veh.route_mov[self.veh.route_ptr[v] + st.veh_pos[v]]
            if net.mov_out[m] >= 0:
                waits.add_edge(int(net.mov_in[m]), int(net.mov_out[m]))
        for component in nx.strongly_connected_components(waits):
            if len(component) < 2:
                continue
            key = frozenset(component)
            if key in self._gridlock_seen:
                continue
            self._gridlock_seen.add(key)
            links = sorted(component)
            nodes = sorted({net.link_keys[i][1] for i in links}, key=str)
            self.gridlocks.append(Gridlock(self.time_s, [net.link_ids[i] for i in links], nodes))
            log.warning("gridlock at %.0f s on %d links around nodes %s", self.time_s, len(links), nodes[:5])

    # -- results -------------------------------------------------------------------------------
    _MEASURED = ("mov_passed", "mov_joined", "mov_delay_sum_s", "mov_stops", "mov_open_s", "queue_sum")

    def start_measuring(self) -> None:
        """Measure junctions and trips from now on (after a warm-up): counters restart at zero."""
        self.measure_from_s = self.time_s
        self._base = {name: getattr(self.state, name).copy() for name in self._MEASURED}
        self.state.queue_max[:] = 0

    def _measured(self, name: str) -> np.ndarray:
        """A cumulative counter of the state since :meth:`start_measuring`."""
        value = getattr(self.state, name)
        return value - self._base[name] if name in self._base else value

    @property
    def vehicle_link_updates(self) -> int:
        """Vehicle-link updates so far (insertions, junction crossings, arrivals)."""
        return int(self.state.counters[C_MOVES])

    def tripinfo(self) -> pd.DataFrame:
        """One row per finished trip: ``id, depart_s, arrival_s, duration_s, route_length_m,
        time_loss_s`` (time loss: duration less the free-flow time at the speed limits)."""
        st, veh, net = self.state, self.veh, self.network
        done = np.nonzero(~np.isnan(st.veh_arrive_s))[0]
        lengths = np.empty(len(done))
        ideal = np.empty(len(done))
        for i, v in enumerate(done):
            a, b = veh.route_ptr[v], veh.route_ptr[v] + veh.route_len[v]
            links = veh.route_link[a:b]
            movs = veh.route_mov[a : b - 1]
            via = net.mov_via_length_m[movs]
            lengths[i] = net.link_length_m[links].sum() + via.sum()
            ideal[i] = (
                net.link_fft_s[links].sum() + (via / net.link_speed_m_per_s[links[:-1]]).sum()
                if len(movs)
                else net.link_fft_s[links].sum()
            )
        duration = st.veh_arrive_s[done] - st.veh_start_s[done]
        return pd.DataFrame(
            {
                "id": [self.trips.ids[v] for v in done],
                "depart_s": st.veh_start_s[done],
                "arrival_s": st.veh_arrive_s[done],
                "duration_s": duration,
                "route_length_m": lengths,
                "time_loss_s": np.maximum(duration - ideal, 0.0),
            }
        )

    def free_flow_time_s(self, vehicles: np.ndarray) -> np.ndarray:
        """Free-flow trip times (links and junction crossings) of the given vehicles (s)."""
        veh, net = self.veh, self.network
        out = np.empty(len(vehicles))
        for i, v in enumerate(vehicles):
            a, b = veh.route_ptr[v], veh.route_ptr[v] + veh.route_len[v]
            out[i] = (
                net.link_fft_s[veh.route_link[a:b]].sum() + net.mov_extra_s[veh.route_mov[a : b - 1]].sum()
            )
        return out

    def kpis(self) -> dict[str, float]:
        """Network measures of the run so far."""
        st = self.state
        done = np.nonzero(st.veh_arrive_s >= self.measure_from_s)[0]  # NaN compares False
        duration = st.veh_arrive_s[done] - st.veh_start_s[done]
        hours = max(self.time_s - self.measure_from_s, 1e-9) / 3600.0
        free = self.free_flow_time_s(done)
        return {
            "mean_travel_time_s": float(duration.mean()) if len(done) else math.nan,
            "throughput_veh": int(len(done)),
            "throughput_veh_per_h": len(done) / hours,
            "teleports": 0,
            "departed_veh": int(np.count_nonzero(~np.isnan(st.veh_start_s))),
            "in_network_veh": int(st.link_occ.sum()),
            "waiting_to_depart_veh": int(
                np.count_nonzero(np.isnan(st.veh_start_s) & (self.veh.depart_s < self.time_s))
            ),
            "travel_time_index_ratio": float(duration.sum() / free.sum()) if len(done) else math.nan,
            "gridlocks_count": len(self.gridlocks),
            "vehicle_link_updates_count": self.vehicle_link_updates,
        }

    def link_table(self) -> pd.DataFrame:
        """Per link and time bin: entries, exits, mean travel time and speed, mean/max queue."""
        net = self.network
        rows = []
        snapshots = self._snapshots_to_now()
        for before, after in zip(snapshots[:-1], snapshots[1:], strict=True):
            span = after["time_s"] - before["time_s"]
            exited = after["exited"] - before["exited"]
            tt = np.where(
                exited > 0, (after["time_sum_s"] - before["time_sum_s"]) / np.maximum(exited, 1), np.nan
            )
            rows.append(
                pd.DataFrame(
                    {
                        "link": net.link_ids,
                        "u": [str(k[0]) for k in net.link_keys],
                        "v": [str(k[1]) for k in net.link_keys],
                        "key": [int(k[2]) for k in net.link_keys],
                        "bin_start_s": before["time_s"],
                        "entered_veh": after["entered"] - before["entered"],
                        "exited_veh": exited,
                        "flow_veh_per_h": exited * 3600.0 / span,
                        "mean_travel_time_s": tt,
                        "mean_speed_m_per_s": net.link_length_m / tt,
                        "mean_queue_veh": (after["queue_sum"] - before["queue_sum"]) / span,
                        "max_queue_veh": after["queue_max"],
                        "occupancy_end_veh": after["occupancy"],
                    }
                )
            )
        if not rows:
            return pd.DataFrame()
        return pd.concat(rows, ignore_index=True)

    def travel_times(self) -> TimeOfDayTravelTimes:
        """Link travel time by time of day for other layers (buses, repair crews).

        Bins without an exit use the free-flow time, raised to the time already spent by any
        vehicle still on the link at the bin's end (so a jammed link never looks free).
        """
        net = self.network
        bins = []
        columns = []
        snapshots = self._snapshots_to_now()
        for before, after in zip(snapshots[:-1], snapshots[1:], strict=True):
            exited = after["exited"] - before["exited"]
            tt = np.where(
                exited > 0,
                (after["time_sum_s"] - before["time_sum_s"]) / np.maximum(exited, 1),
                net.link_fft_s,
            )
            bins.append(before["time_s"])
            columns.append(np.maximum(tt, net.link_fft_s))
        if not columns:
            bins, columns = [self.begin_s], [net.link_fft_s]
        table = np.column_stack(columns)
        edges = [tuple(k) for k in net.link_keys]
        return TimeOfDayTravelTimes(edges, np.array(bins), table, FreeFlowTravelTimes(net.graph))

    def movement_table(self) -> pd.DataFrame:
        """Per movement through a junction (since :meth:`start_measuring`): demand, crossings,
        mean stop-line delay, stops per vehicle, and v/c (demand over saturation flow × the
        time the movement was open)."""
        net = self.network
        real = np.nonzero(net.mov_out >= 0)[0]
        span = max(self.time_s - self.measure_from_s, 1e-9)
        passed = self._measured("mov_passed")[real]
        joined = self._measured("mov_joined")[real]
        open_s = self._measured("mov_open_s")[real]
        delay_sum = self._measured("mov_delay_sum_s")[real]
        stops = self._measured("mov_stops")[real]
        capacity_veh = net.mov_cap_veh_per_s[real] * open_s
        unsignalled = np.array([net.mov_node[m] is not None for m in real]) & (open_s == 0)
        capacity_veh = np.where(unsignalled, net.mov_cap_veh_per_s[real] * span, capacity_veh)
        return pd.DataFrame(
            {
                "movement": real,
                "node": [str(net.mov_node[m]) for m in real],
                "in_link": [net.link_ids[i] for i in net.mov_in[real]],
                "out_link": [net.link_ids[i] for i in net.mov_out[real]],
                "turn": [net.mov_turn[m] for m in real],
                "demand_veh": joined,
                "passed_veh": passed,
                "mean_delay_s": np.where(passed > 0, delay_sum / np.maximum(passed, 1), 0.0),
                "stops_per_veh": np.where(passed > 0, stops / np.maximum(passed, 1), 0.0),
                "v_over_c_ratio": np.where(capacity_veh > 0, joined / np.maximum(capacity_veh, 1e-9), np.inf),
            }
        )

    def junction_table(self, nodes: list | None = None, jam_spacing_m: float | None = None) -> pd.DataFrame:
        """Per junction: volume, control delay, stops, queues (veh and m), critical v/c."""
        net, st = self.network, self.state
        spacing = jam_spacing_m or net.params.jam_spacing_m
        span = max(self.time_s - self.measure_from_s, 1e-9)
        queue_sum = self._measured("queue_sum")
        moves = self.movement_table()
        if nodes is None:
            nodes = [net.mov_node[m[0]] for m in net.controllers.values()]
        rows = []
        for node in nodes:
            here = moves[moves["node"] == str(node)]
            passed = int(here["passed_veh"].sum())
            delay = float((here["mean_delay_s"] * here["passed_veh"]).sum() / passed) if passed else 0.0
            stops = float((here["stops_per_veh"] * here["passed_veh"]).sum() / passed) if passed else 0.0
            in_links = sorted({int(net.mov_in[m]) for m in net.junction_movements.get(node, [])})
            queues = np.nonzero(np.isin(net.queue_link, in_links))[0]
            mean_q = queue_sum[queues] / span
            max_q = st.queue_max[queues]
            metres = spacing / np.maximum(net.queue_lanes[queues], 1)
            rows.append(
                {
                    "node": str(node),
                    "volume_veh": passed,
                    "control_delay_s_per_veh": delay,
                    "stops_per_veh": stops,
                    "mean_queue_veh": float(mean_q.max()) if len(queues) else 0.0,
                    "max_queue_veh": int(max_q.max()) if len(queues) else 0,
                    "mean_queue_m": float((mean_q * metres).max()) if len(queues) else 0.0,
                    "max_queue_m": float((max_q * metres).max()) if len(queues) else 0.0,
                    "v_over_c_ratio": float(here["v_over_c_ratio"].replace(np.inf, np.nan).max())
                    if len(here)
                    else 0.0,
                }
            )
        return pd.DataFrame(rows)


def simulate(
    network: TrafficNetwork,
    plans: list[SignalPlan],
    trips: Trips,
    begin_s: float,
    end_s: float,
    timing: TimingParams | None = None,
    engine: Engine | None = None,
    use_reference: bool = False,
) -> TrafficModel:
    """Run ``trips`` on ``network`` under ``plans`` from ``begin_s`` to ``end_s``; return the model.

    A fresh :class:`twin.engine.Engine` is used unless one is given (its clock starts at 0 =
    ``begin_s``).
    """
    timing = timing or TimingParams()
    controller = SignalController.build(network, plans, timing)
    model = TrafficModel(network, controller, trips, begin_s=begin_s, use_reference=use_reference)
    if engine is None:
        engine = Engine(seed=0, start=datetime(2025, 6, 3, 7, 0, 0), duration_s=end_s - begin_s)
    model.attach(engine, end_s - begin_s)
    engine.env.run(until=end_s - begin_s + 1e-6)
    return model


def run_until_done(model: TrafficModel, end_s: float | None, max_extra_s: float = 4 * 3600.0) -> None:
    """Advance ``model`` to ``end_s``, or (``None``) until every vehicle has arrived.

    Without an end, the run stops when the network is empty and nobody waits to depart, when it
    has stalled (gridlock), or ``max_extra_s`` after the last departure.
    """
    if end_s is not None:
        model.advance_to(end_s)
        return
    last_depart = float(model.veh.depart_s.max()) if len(model.veh.depart_s) else model.begin_s
    limit = max(last_depart, model.begin_s) + max_extra_s
    while model.time_s < limit:
        model.advance_to(min(model.time_s + 300.0, limit))
        state = model.state
        if model.time_s > last_depart and not state.link_occ.any() and not np.isnan(state.veh_start_s).any():
            break
        if model.stalled_at_s is not None:
            break
