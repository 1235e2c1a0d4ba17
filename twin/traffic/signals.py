"""Signal plans, their checks, timing strategies, levels of service and the runtime controller.

A :class:`SignalPlan` belongs to one *controller* (a signalised node of the road graph, or a
SUMO ``tlLogic``) and lists its movements and its phases. Each :class:`Phase` shows protected
(``G``) or permitted (``g``, gives way) green to some movements and red to the rest, for a green
time, followed by yellow and all-red for the movements that lose green. Cycle = Σ (green +
yellow + all-red). :func:`validate_plan` checks every plan before it runs.

Strategies (swappable per controller, see :data:`STRATEGIES`):

* ``fixed``: the plan as given (default phases with a default cycle, or a SUMO programme).
* ``webster``: fixed time by Webster (1958): C0 = (1.5 L + 5) / (1 − Y), effective greens in
  proportion to the critical flow ratios y_i, minimum greens respected; Y ≥ 0.9 flags the
  junction oversaturated and uses the maximum cycle.
* ``actuated``: gap-out / max-out on stop-line approach detectors (min and max green).
* ``max_pressure``: Varaiya's max-pressure with normalised queues, decided every few seconds
  after the minimum green.
* ``green_wave``: Webster splits on a common cycle, offsets from link travel times along an
  arterial, and the resulting progression bandwidth.
* ``adaptive``: camera-linked (红绿灯与摄像头智能联动): Webster re-run every few cycles on
  the flows the cameras counted (the model's per-movement counts), smoothed.

Transit signal priority: :meth:`SignalController.request_priority` (green extension or early
green for a bus movement), usable both inside a traffic run and stand-alone on a plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from twin.config import StrictModel
from twin.errors import InputError

if TYPE_CHECKING:
    from twin.traffic.model import TrafficNetwork

STRATEGIES = ("fixed", "webster", "actuated", "max_pressure", "green_wave", "adaptive")
Strategy = Literal["fixed", "webster", "actuated", "max_pressure", "green_wave", "adaptive"]

_STATE_CODE = {"r": 0, "y": 1, "g": 2, "G": 3}


@dataclass(frozen=True)
class Phase:
    """One phase: green to some movements, then its transition (yellow, all-red).

    ``states`` has one letter per movement of the plan: ``G`` protected green, ``g`` permitted
    green (gives way to conflicting ``G``), ``r`` red.
    """

    states: str
    green_s: float
    yellow_s: float = 3.0
    all_red_s: float = 2.0
    min_green_s: float = 5.0
    max_green_s: float = 60.0

    @property
    def duration_s(self) -> float:
        """Green plus intergreen (s)."""
        return self.green_s + self.yellow_s + self.all_red_s

    def green(self, k: int) -> bool:
        """Whether local movement ``k`` is green (protected or permitted)."""
        return self.states[k] in "Gg"


@dataclass(frozen=True)
class SignalPlan:
    """A controller's phases over a cycle.

    Attributes
    ----------
    controller
        Controller id (the node id as text, or the SUMO ``tlLogic`` id).
    movements
        Global movement ids (of the :class:`twin.traffic.TrafficNetwork`) in local order.
    phases
        The phases in their fixed-time order.
    cycle_s
        Declared cycle length; must equal Σ phase durations (checked).
    offset_s
        Start of the first phase's green relative to simulated time 0 (s).
    strategy
        How the controller runs (one of :data:`STRATEGIES`).
    oversaturated
        Set by Webster when the critical flow ratio sum Y ≥ 0.9.
    """

    controller: str
    movements: tuple[int, ...]
    phases: tuple[Phase, ...]
    cycle_s: float
    offset_s: float = 0.0
    strategy: str = "fixed"
    oversaturated: bool = False
    passage_s: float = 3.0
    decision_s: float = 5.0

    @classmethod
    def from_phases(cls, controller: str, movements, phases, offset_s: float = 0.0, **kw) -> SignalPlan:
        """A plan whose cycle is the sum of its phases."""
        phases = tuple(phases)
        return cls(
            controller,
            tuple(int(m) for m in movements),
            phases,
            float(sum(p.duration_s for p in phases)),
            offset_s,
            **kw,
        )

    def with_greens(self, greens_s: list[float], **kw) -> SignalPlan:
        """A copy with new green times (and the cycle that follows from them)."""
        phases = tuple(replace(p, green_s=float(g)) for p, g in zip(self.phases, greens_s, strict=True))
        return replace(self, phases=phases, cycle_s=float(sum(p.duration_s for p in phases)), **kw)

    def green_window_s(self, phase_index: int) -> tuple[float, float]:
        """Start and end of phase ``phase_index``'s green within the cycle, from the offset."""
        start = sum(p.duration_s for p in self.phases[:phase_index])
        return start, start + self.phases[phase_index].green_s

    def phase_of(self, movement: int) -> int:
        """The first phase in which ``movement`` (global id) is green; -1 if never."""
        k = self.movements.index(movement)
        for i, phase in enumerate(self.phases):
            if phase.green(k):
                return i
        return -1


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def plan_problems(plan: SignalPlan, conflicts: np.ndarray) -> list[str]:
    """Everything wrong with ``plan``; ``conflicts`` is the bool matrix over its local movements.

    Checks: states have one letter per movement from ``Gg r``; no two conflicting movements
    protected-green in the same phase; a permitted movement never conflicts with a protected
    one of the same approach rank without giving way (it always gives way, so only G–G is an
    error); durations are non-negative, greens within [min, max]; green plus intergreen sums to
    the cycle; a movement losing green is followed by yellow + all-red > 0 before a conflicting
    movement gains green.
    """
    problems = []
    n = len(plan.movements)
    if not plan.phases:
        problems.append("no phases")
    for i, phase in enumerate(plan.phases):
        if len(phase.states) != n:
            problems.append(f"phase {i}: {len(phase.states)} states for {n} movements")
            continue
        if set(phase.states) - set("Ggr"):
            problems.append(f"phase {i}: states {phase.states!r} use letters other than G, g, r")
        for name in ("green_s", "yellow_s", "all_red_s", "min_green_s"):
            if getattr(phase, name) < 0:
                problems.append(f"phase {i}: {name} = {getattr(phase, name)} < 0")
        if phase.green_s + 1e-9 < phase.min_green_s and plan.strategy in (
            "webster",
            "green_wave",
            "adaptive",
        ):
            problems.append(f"phase {i}: green {phase.green_s:g} s below minimum {phase.min_green_s:g} s")
        protected = [k for k in range(n) if phase.states[k] == "G"]
        for a_pos, a in enumerate(protected):
            for b in protected[a_pos + 1 :]:
                if conflicts[a, b]:
                    problems.append(
                        f"phase {i}: conflicting movements {plan.movements[a]} and "
                        f"{plan.movements[b]} are both protected green"
                    )
    total = sum(p.duration_s for p in plan.phases)
    if abs(total - plan.cycle_s) > 1e-6:
        problems.append(f"green + intergreen = {total:g} s but the cycle is {plan.cycle_s:g} s")
    if len(plan.phases) > 1:
        for i, phase in enumerate(plan.phases):
            nxt = plan.phases[(i + 1) % len(plan.phases)]
            if len(phase.states) != n or len(nxt.states) != n:
                continue
            losing = [k for k in range(n) if phase.green(k) and not nxt.green(k)]
            gaining = [k for k in range(n) if nxt.green(k) and not phase.green(k)]
            if phase.yellow_s + phase.all_red_s <= 0 and any(
                conflicts[a, b] for a in losing for b in gaining
            ):
                problems.append(
                    f"phase {i} → {(i + 1) % len(plan.phases)}: no intergreen between conflicting movements"
                )
    return problems


def validate_plan(plan: SignalPlan, conflicts: np.ndarray, source: str = "signal plan") -> None:
    """Raise :class:`InputError` naming the controller and the first problem, if any."""
    problems = plan_problems(plan, conflicts)
    if problems:
        raise InputError(f"controller {plan.controller}: {problems[0]}", source)


# --------------------------------------------------------------------------------------------
# Webster
# --------------------------------------------------------------------------------------------


class TimingParams(StrictModel):
    """Signal timing parameters (defaults: common Chinese/HCM practice)."""

    yellow_s: float = Field(default=3.0, ge=0, le=6, description="Yellow (GB 14886: 3 s).")
    all_red_s: float = Field(default=2.0, ge=0, le=6, description="All-red clearance (s).")
    min_green_s: float = Field(
        default=10.0, ge=1, le=60, description="Minimum green (pedestrian crossing) (s)."
    )
    max_green_s: float = Field(
        default=60.0, ge=5, le=180, description="Maximum green for actuated control (s)."
    )
    min_cycle_s: float = Field(default=40.0, ge=10, le=300, description="Shortest Webster cycle (s).")
    max_cycle_s: float = Field(
        default=150.0, ge=30, le=300, description="Longest cycle; used when Y ≥ 0.9 (s)."
    )
    default_cycle_s: float = Field(
        default=90.0, ge=20, le=300, description="Cycle of the untimed default plans (s)."
    )
    oversaturation_y: float = Field(
        default=0.9, gt=0, lt=1, description="Y at which a junction is oversaturated."
    )
    passage_s: float = Field(default=3.0, gt=0, le=10, description="Actuated gap (passage) time (s).")
    actuated_min_green_s: float = Field(default=6.0, ge=1, le=30, description="Actuated minimum green (s).")
    decision_s: float = Field(default=5.0, gt=0, le=30, description="Max-pressure decision interval (s).")
    adaptive_every_cycles: int = Field(
        default=2, ge=1, le=20, description="Adaptive: re-optimise every N cycles."
    )
    adaptive_smoothing: float = Field(
        default=0.5, gt=0, le=1, description="Adaptive: weight of the newest counts."
    )
    tsp_max_extension_s: float = Field(
        default=15.0, ge=0, le=60, description="Transit priority: longest extension (s)."
    )
    progression_speed_factor: float = Field(
        default=1.0,
        gt=0.3,
        le=1.5,
        description="Green wave: progression speed as a share of free-flow speed.",
    )


@dataclass(frozen=True)
class WebsterResult:
    """Webster timing of one controller."""

    cycle_s: float
    greens_s: list[float]
    flow_ratio_sum: float  # Y
    lost_time_s: float  # L
    oversaturated: bool
    critical_ratios: list[float]


def webster_timing(
    critical_ratios: list[float],
    lost_time_per_phase_s: list[float],
    startup_lost_s: float,
    yellow_extension_s: float,
    timing: TimingParams,
    cycle_s: float | None = None,
) -> WebsterResult:
    """Webster's optimum cycle and green split (or the split alone, for a given cycle).

    Parameters
    ----------
    critical_ratios
        y_i = max over the phase's movements of flow / saturation flow.
    lost_time_per_phase_s
        Lost time of each phase: start-up lost + (yellow + all-red − yellow used).
    startup_lost_s, yellow_extension_s
        To turn effective greens g_i back into displayed greens: G_i = g_i + l1 − e.
    cycle_s
        A common cycle imposed from outside (green wave); only the split is Webster's then.

    Notes
    -----
    C0 = (1.5 L + 5) / (1 − Y), limited to [min_cycle, max_cycle]; when Y ≥ 0.9 the junction
    is oversaturated and the maximum cycle is used. Effective greens share C − L in proportion
    to y_i; displayed greens are whole seconds, and those below the minimum are raised to it
    (the cycle then grows to match).
    """
    y = [max(0.0, float(v)) for v in critical_ratios]
    big_y = sum(y)
    lost = float(sum(lost_time_per_phase_s))
    oversaturated = big_y >= timing.oversaturation_y
    if cycle_s is not None:
        cycle = float(cycle_s)
    elif oversaturated:
        cycle = timing.max_cycle_s
    else:
        cycle = (1.5 * lost + 5.0) / (1.0 - big_y)
        cycle = min(max(cycle, timing.min_cycle_s), timing.max_cycle_s)
    effective_total = max(cycle - lost, 0.0)
    shares = [v / big_y for v in y] if big_y > 0 else [1.0 / len(y)] * len(y)
    greens = [
        max(timing.min_green_s, float(round(s * effective_total + startup_lost_s - yellow_extension_s)))
        for s in shares
    ]
    # Whole seconds must still add up to the cycle: the rounding residue goes to the phase with
    # the largest share (unless that would cut it below its minimum).
    residue = round(cycle - lost + len(greens) * (startup_lost_s - yellow_extension_s) - sum(greens))
    biggest = max(range(len(greens)), key=lambda i: shares[i])
    greens[biggest] = max(timing.min_green_s, greens[biggest] + residue)
    # Displayed cycle = Σ G + Σ (yellow + all-red) = Σ G + L − n (l1 − e); larger than C0 only
    # when minimum greens had to be raised.
    return WebsterResult(
        cycle_s=float(
            sum(greens) + sum(lost_time_per_phase_s) - len(greens) * (startup_lost_s - yellow_extension_s)
        ),
        greens_s=greens,
        flow_ratio_sum=big_y,
        lost_time_s=lost,
        oversaturated=oversaturated,
        critical_ratios=y,
    )


def webster_delay_s(
    cycle_s: float, effective_green_s: float, flow_veh_per_s: float, sat_flow_veh_per_s: float
) -> float:
    """Webster's (1958) mean delay per vehicle at a fixed-time approach with random arrivals.

    d = C(1−λ)² / (2(1−λx)) + x² / (2q(1−x)) − 0.65 (C/q²)^(1/3) x^(2+5λ), with λ = g/C,
    x = q/(λs). Valid for x < 1.
    """
    lam = effective_green_s / cycle_s
    x = flow_veh_per_s / (lam * sat_flow_veh_per_s)
    if x >= 1.0:
        return math.inf
    q = flow_veh_per_s
    uniform = cycle_s * (1.0 - lam) ** 2 / (2.0 * (1.0 - lam * x))
    random = x * x / (2.0 * q * (1.0 - x))
    correction = 0.65 * (cycle_s / q**2) ** (1.0 / 3.0) * x ** (2.0 + 5.0 * lam)
    return uniform + random - correction


# --------------------------------------------------------------------------------------------
# Levels of service
# --------------------------------------------------------------------------------------------

HCM_LOS_THRESHOLDS_S = (10.0, 20.0, 35.0, 55.0, 80.0)
"""HCM 6th ed. (Exhibit 19-8), signalised intersections: upper delay bounds of A–E (s/veh)."""


def hcm_los(delay_s_per_veh: float, v_over_c: float = 0.0) -> str:
    """HCM 6 level of service of a signalised junction or lane group; v/c > 1 is always F."""
    if not math.isfinite(delay_s_per_veh) or v_over_c > 1.0:
        return "F"
    for letter, bound in zip("ABCDE", HCM_LOS_THRESHOLDS_S, strict=True):
        if delay_s_per_veh <= bound:
            return letter
    return "F"


class GbLosTable(StrictModel):
    """A GB 50647 service-level table: grades with upper bounds of delay and load (负荷度).

    Default: GB 50647-2011《城市道路交叉口规划规范》附录 B, 表 B.0.1 (信号交叉口机动车服务水平) as
    commonly cited: 一级 delay < 30 s, 负荷度 < 0.6; 二级 30–50 s, 0.6–0.8; 三级 50–60 s, 0.8–0.9;
    四级 > 60 s, > 0.9. Check the edition in force and override in the scenario if it differs.
    """

    grades: list[str] = Field(default=["一级", "二级", "三级", "四级"], min_length=2)
    max_delay_s: list[float] = Field(default=[30.0, 50.0, 60.0], description="Upper delay bounds (s/veh).")
    max_load: list[float] = Field(default=[0.6, 0.8, 0.9], description="Upper bounds of 负荷度 (v/c).")


def gb_los(delay_s_per_veh: float, v_over_c: float, table: GbLosTable | None = None) -> str:
    """GB 50647 grade: the worse of the grade by delay and the grade by load (v/c)."""
    table = table or GbLosTable()
    last = len(table.grades) - 1

    def grade(value: float, bounds: list[float]) -> int:
        if not math.isfinite(value):
            return last
        for i, bound in enumerate(bounds):
            if value < bound:
                return i
        return last

    return table.grades[max(grade(delay_s_per_veh, table.max_delay_s), grade(v_over_c, table.max_load))]


# --------------------------------------------------------------------------------------------
# Green wave
# --------------------------------------------------------------------------------------------


def green_wave_offsets(
    travel_times_s: list[float], cycle_s: float, first_offset_s: float = 0.0
) -> list[float]:
    """Offsets (green starts mod cycle) that let a platoon leaving the first junction at green
    start meet green at every junction: cumulative travel times, modulo the cycle."""
    offsets = [first_offset_s % cycle_s]
    for t in travel_times_s:
        offsets.append((offsets[-1] + t) % cycle_s)
    return offsets


def bandwidth_s(
    green_starts_s: list[float], greens_s: list[float], travel_times_s: list[float], cycle_s: float
) -> float:
    """Progression bandwidth in one direction (s): the longest interval of departures from the
    first junction that meet green at every junction downstream.

    ``green_starts_s[i]`` is the absolute time (mod cycle) of junction ``i``'s arterial green
    start; ``travel_times_s[i]`` the travel time from junction ``i`` to ``i + 1``.
    """
    arrive = np.concatenate([[0.0], np.cumsum(travel_times_s)])
    # A departure at time τ from junction 0 meets junction i at τ + arrive[i]; the band is the
    # intersection over i of the green windows shifted back by arrive[i], on a circle of cycle_s.
    resolution = 0.1
    grid = np.arange(0.0, cycle_s, resolution)
    ok = np.ones_like(grid, dtype=bool)
    for start, green, t in zip(green_starts_s, greens_s, arrive, strict=True):
        phase = (grid + t - start) % cycle_s
        ok &= phase < green
    if ok.all():
        return float(min(greens_s))
    if not ok.any():
        return 0.0
    # Longest run of True on the circle.
    doubled = np.concatenate([ok, ok])
    best = run = 0
    for value in doubled:
        run = run + 1 if value else 0
        best = max(best, run)
    return float(min(best, len(grid)) * resolution)


# --------------------------------------------------------------------------------------------
# The runtime controller (kernel arrays, adaptive updates, transit priority)
# --------------------------------------------------------------------------------------------


@dataclass
class PriorityDecision:
    """What a transit priority request got."""

    controller: str
    movement: int
    time_s: float
    action: Literal["already_green", "extension", "early_green", "none"]
    expected_green_s: float  # when the movement is expected to be green (s, simulated time)


@dataclass
class SignalController:
    """All controllers of a run: their plans, the kernel's signal arrays and runtime hooks.

    Build with :meth:`build`. The traffic model hands :attr:`arrays` to the kernel; changing a
    plan (adaptive control) rewrites the green times in place, so the kernel sees it at the
    next phase.
    """

    plans: list[SignalPlan]
    network: TrafficNetwork
    timing: TimingParams
    arrays: object = None  # kernels.traffic.Signals
    index: dict[str, int] = field(default_factory=dict)
    requests: list[PriorityDecision] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    _adaptive_flows: dict[str, np.ndarray] = field(default_factory=dict)
    _adaptive_last: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, network: TrafficNetwork, plans: list[SignalPlan], timing: TimingParams
    ) -> SignalController:
        """Validate every plan and lay them out as kernel arrays."""
        from kernels.traffic.layout import ACTUATED, FIXED, MAX_PRESSURE, Signals

        for plan in plans:
            validate_plan(plan, network.conflicts_among(plan.movements), "signal plans")
        ctrl_code = {
            "fixed": FIXED,
            "webster": FIXED,
            "green_wave": FIXED,
            "adaptive": FIXED,
            "actuated": ACTUATED,
            "max_pressure": MAX_PRESSURE,
        }
        phase_ptr, jmov_ptr, jmov, state_ptr, phase_state = [0], [0], [], [], []
        green, min_green, max_green, yellow, all_red = [], [], [], [], []
        for plan in plans:
            for phase in plan.phases:
                state_ptr.append(len(phase_state))
                phase_state += [_STATE_CODE[c] for c in phase.states]
                green.append(phase.green_s)
                min_green.append(phase.min_green_s)
                max_green.append(max(phase.max_green_s, phase.min_green_s))
                yellow.append(phase.yellow_s)
                all_red.append(phase.all_red_s)
            phase_ptr.append(phase_ptr[-1] + len(plan.phases))
            jmov += list(plan.movements)
            jmov_ptr.append(len(jmov))
        n = len(plans)
        arrays = Signals(
            ctrl_type=np.array([ctrl_code[p.strategy] for p in plans], np.int64),
            phase_ptr=np.array(phase_ptr, np.int64),
            jmov_ptr=np.array(jmov_ptr, np.int64),
            jmov=np.array(jmov, np.int64),
            state_ptr=np.array(state_ptr, np.int64),
            phase_state=np.array(phase_state, np.int64),
            green_s=np.array(green, float),
            min_green_s=np.array(min_green, float),
            max_green_s=np.array(max_green, float),
            yellow_s=np.array(yellow, float),
            all_red_s=np.array(all_red, float),
            passage_s=np.array([p.passage_s for p in plans], float),
            decision_s=np.array([p.decision_s for p in plans], float),
            tsp_phase=np.full(n, -1, np.int64),
            tsp_until_s=np.zeros(n),
            tsp_max_ext_s=np.full(n, timing.tsp_max_extension_s),
        )
        return cls(
            plans=list(plans),
            network=network,
            timing=timing,
            arrays=arrays,
            index={p.controller: i for i, p in enumerate(plans)},
        )

    # -- positions at time 0 -------------------------------------------------------------------
    def set_initial_positions(self, state) -> None:  # noqa: ANN001 - kernels.traffic.State
        """Place each controller in its cycle at time 0 from its offset (fixed-time family)."""
        from kernels.traffic.layout import ALL_RED_STAGE, GREEN_STAGE, YELLOW_STAGE

        for j, plan in enumerate(self.plans):
            first = int(self.arrays.phase_ptr[j])
            position = (-plan.offset_s) % plan.cycle_s if plan.cycle_s > 0 else 0.0
            for i, phase in enumerate(plan.phases):
                if position < phase.green_s:
                    stage, time_in = GREEN_STAGE, position
                elif position < phase.green_s + phase.yellow_s:
                    stage, time_in = YELLOW_STAGE, position - phase.green_s
                elif position < phase.duration_s:
                    stage, time_in = ALL_RED_STAGE, position - phase.green_s - phase.yellow_s
                else:
                    position -= phase.duration_s
                    continue
                state.sig_phase[j] = first + i
                state.sig_stage[j] = stage
                state.sig_time_s[j] = time_in
                state.sig_next[j] = first + (i + 1) % len(plan.phases)
                break

    # -- transit signal priority ---------------------------------------------------------------
    def request_priority(
        self, controller: str, movement: int, time_s: float, hold_s: float | None = None, state=None
    ) -> PriorityDecision:  # noqa: ANN001
        """A bus on ``movement`` asks ``controller`` for priority at ``time_s`` (its expected
        arrival at the stop line).

        If the movement's phase is green now (per ``state`` in a run, or the fixed plan
        otherwise) and would end before the bus arrives, the green is extended by up to
        ``timing.tsp_max_extension_s`` (*extension*). If it is red, the phases in between are
        cut to their minimum greens (*early green*). The request stays active for ``hold_s``
        (default: the extension limit) after ``time_s`` and then expires by itself.

        Returns
        -------
        PriorityDecision
            The action and the expected start of green for the bus (simulated s).
        """
        j = self.index[controller]
        plan = self.plans[j]
        phase = plan.phase_of(movement)
        if phase < 0:
            return PriorityDecision(controller, movement, time_s, "none", math.inf)
        hold = self.timing.tsp_max_extension_s if hold_s is None else hold_s
        self.arrays.tsp_phase[j] = int(self.arrays.phase_ptr[j]) + phase
        self.arrays.tsp_until_s[j] = time_s + hold
        current, stage, elapsed = self._position(j, time_s, state)
        if current == phase and stage == 0:
            remaining = plan.phases[phase].green_s - elapsed
            action = "already_green" if remaining > 0 else "extension"
            decision = PriorityDecision(controller, movement, time_s, action, time_s)
        else:
            # Early green: every phase before ours runs only its minimum green.
            t = 0.0
            i = current
            if stage == 0:
                t += (
                    max(plan.phases[i].min_green_s - elapsed, 0.0)
                    + plan.phases[i].yellow_s
                    + plan.phases[i].all_red_s
                )
            else:
                t += plan.phases[i].yellow_s + plan.phases[i].all_red_s  # upper bound of the rest
            i = (i + 1) % len(plan.phases)
            while i != phase:
                p = plan.phases[i]
                t += p.min_green_s + p.yellow_s + p.all_red_s
                i = (i + 1) % len(plan.phases)
            decision = PriorityDecision(controller, movement, time_s, "early_green", time_s + t)
        self.requests.append(decision)
        return decision

    def clear_priority(self, controller: str) -> None:
        """Withdraw ``controller``'s request (the bus has passed)."""
        j = self.index[controller]
        self.arrays.tsp_phase[j] = -1
        self.arrays.tsp_until_s[j] = 0.0

    def _position(self, j: int, time_s: float, state) -> tuple[int, int, float]:  # noqa: ANN001
        """(phase index within the plan, stage, time in stage) now, from the state or the plan."""
        if state is not None:
            return (
                int(state.sig_phase[j] - self.arrays.phase_ptr[j]),
                int(state.sig_stage[j]),
                float(state.sig_time_s[j]),
            )
        plan = self.plans[j]
        position = (time_s - plan.offset_s) % plan.cycle_s
        for i, phase in enumerate(plan.phases):
            if position < phase.green_s:
                return i, 0, position
            if position < phase.duration_s:
                return i, 1, position - phase.green_s
            position -= phase.duration_s
        return 0, 0, 0.0

    # -- adaptive (camera-linked) --------------------------------------------------------------
    def adaptive_update(self, time_s: float, state) -> None:  # noqa: ANN001
        """Re-time every ``adaptive`` controller whose re-optimisation is due.

        The cameras are the model's per-movement counts (``state.mov_joined``): flows over the
        last window, smoothed exponentially, feed Webster; the new greens take effect at each
        phase's next start.
        """
        for j, plan in enumerate(self.plans):
            if plan.strategy != "adaptive":
                continue
            period = plan.cycle_s * self.timing.adaptive_every_cycles
            last_time, last_counts = self._adaptive_last.get(
                plan.controller, (0.0, np.zeros(len(plan.movements)))
            )
            if time_s - last_time < period - 1e-9:
                continue
            counts = state.mov_joined[list(plan.movements)].astype(float)
            flows = (counts - last_counts) / max(time_s - last_time, 1.0)
            previous = self._adaptive_flows.get(plan.controller)
            alpha = self.timing.adaptive_smoothing
            smoothed = flows if previous is None else alpha * flows + (1 - alpha) * previous
            self._adaptive_flows[plan.controller] = smoothed
            self._adaptive_last[plan.controller] = (time_s, counts)
            new_plan, result = retime_webster(plan, smoothed * 3600.0, self.network, self.timing)
            self.plans[j] = replace(new_plan, strategy="adaptive")
            first = int(self.arrays.phase_ptr[j])
            for i, phase in enumerate(new_plan.phases):
                self.arrays.green_s[first + i] = phase.green_s
            self.history.append(
                {
                    "time_s": time_s,
                    "controller": plan.controller,
                    "cycle_s": new_plan.cycle_s,
                    "flow_ratio_sum": result.flow_ratio_sum,
                    "greens_s": " ".join(f"{p.green_s:g}" for p in new_plan.phases),
                }
            )


# --------------------------------------------------------------------------------------------
# Building plans
# --------------------------------------------------------------------------------------------


def critical_ratios(plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork) -> list[float]:
    """y_i of each phase: the largest flow / saturation flow among its green movements."""
    ratios = []
    for phase in plan.phases:
        y = 0.0
        for k, m in enumerate(plan.movements):
            if phase.green(k):
                sat = network.mov_cap_veh_per_s[m] * 3600.0
                if phase.states[k] == "g":
                    sat *= 0.5  # a permitted movement gets about half its saturation flow
                y = max(y, flows_veh_per_h[k] / sat if sat > 0 else 0.0)
        ratios.append(y)
    return ratios


def retime_webster(
    plan: SignalPlan,
    flows_veh_per_h: np.ndarray,
    network: TrafficNetwork,
    timing: TimingParams,
    cycle_s: float | None = None,
) -> tuple[SignalPlan, WebsterResult]:
    """``plan`` with Webster's cycle (or ``cycle_s``) and split for movement flows (local order)."""
    params = network.params
    lost = [params.startup_lost_s + p.yellow_s + p.all_red_s - params.yellow_extension_s for p in plan.phases]
    result = webster_timing(
        critical_ratios(plan, flows_veh_per_h, network),
        lost,
        params.startup_lost_s,
        params.yellow_extension_s,
        timing,
        cycle_s=cycle_s,
    )
    new = plan.with_greens(result.greens_s, strategy="webster", oversaturated=result.oversaturated)
    new = replace(new, phases=tuple(replace(p, min_green_s=timing.min_green_s) for p in new.phases))
    return new, result


def with_strategy(plan: SignalPlan, strategy: str, timing: TimingParams) -> SignalPlan:
    """``plan`` run by ``strategy`` (min/max greens and detector settings for the family)."""
    if strategy not in STRATEGIES:
        raise InputError(f"signal strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
    if strategy in ("actuated", "max_pressure"):
        phases = tuple(
            replace(
                p, min_green_s=timing.actuated_min_green_s, max_green_s=max(timing.max_green_s, p.green_s)
            )
            for p in plan.phases
        )
        return replace(
            plan, phases=phases, strategy=strategy, passage_s=timing.passage_s, decision_s=timing.decision_s
        )
    return replace(plan, strategy=strategy)
