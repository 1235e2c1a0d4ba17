"""Status rules of the GGA (EPANET ``hydstatus.c``): which links carry flow, decided from heads.

* :func:`pressure_valve_status` - EPANET's ``valvestatus``: a PRV or PSV with a setting switches
  between ACTIVE, OPEN and CLOSED from the heads on both sides (re-examined every iteration);
* :func:`link_status` - EPANET's ``linkstatus``: check valves close against reverse flow, pumps
  beyond their shutoff head stop (XHEAD), FCVs that cannot pass their flow open (XFCV), and a link
  that would fill a full tank or drain an empty one closes for the moment (TEMPCLOSED).

Reference twins: :func:`pressure_valve_status_reference` (the transition table, written as one)
and :func:`link_status_reference` (EPANET's functions one by one).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.hydraulics.codes import (
    ACTIVE,
    CLOSED,
    CONST_HP,
    CVPIPE,
    FCV,
    MISSING,
    OPEN,
    PRV,
    PUMP,
    TANK,
    TEMPCLOSED,
    XFCV,
    XHEAD,
    XPRESSURE,
)


@njit(cache=True, error_model="numpy")
def pressure_valve_status(
    valves: np.ndarray, kind: np.ndarray, start: np.ndarray, end: np.ndarray, status: np.ndarray,
    setting: np.ndarray, flow: np.ndarray, head: np.ndarray, elevation: np.ndarray,
    minor_loss: np.ndarray, htol: float, qtol: float,
) -> bool:
    """EPANET's ``valvestatus``: new status of every PRV and PSV with a setting; True on a change."""
    change = False
    for m in range(valves.shape[0]):
        k = valves[m]
        if setting[k] == MISSING:
            continue
        s = status[k]
        new = _pressure_valve_rule(kind[k], s, setting[k], flow[k], head[start[k]], head[end[k]],
                                   elevation[start[k]], elevation[end[k]], minor_loss[k], htol, qtol)
        if new != s:
            status[k] = new
            change = True
    return change


@njit(cache=True, error_model="numpy")
def _pressure_valve_rule(t: int, s: int, setting: float, q: float, h1: float, h2: float, el1: float,
                         el2: float, km: float, htol: float, qtol: float) -> int:
    hml = km * q * q
    if t == PRV:
        hset = el2 + setting
        if s == ACTIVE:
            if q < -qtol:
                return CLOSED
            return OPEN if h1 - hml < hset - htol else ACTIVE
        if s == OPEN:
            if q < -qtol:
                return CLOSED
            return ACTIVE if h2 >= hset + htol else OPEN
        if s == CLOSED:
            if h1 >= hset + htol and h2 < hset - htol:
                return ACTIVE
            if h1 < hset - htol and h1 > h2 + htol:
                return OPEN
            return CLOSED
        if s == XPRESSURE and q < -qtol:
            return CLOSED
        return s
    hset = el1 + setting  # PSV
    if s == ACTIVE:
        if q < -qtol:
            return CLOSED
        return OPEN if h2 + hml > hset + htol else ACTIVE
    if s == OPEN:
        if q < -qtol:
            return CLOSED
        return ACTIVE if h1 < hset - htol else OPEN
    if s == CLOSED:
        if h2 > hset + htol and h1 > h2 + htol:
            return OPEN
        if h1 >= hset + htol and h1 > h2 + htol:
            return ACTIVE
        return CLOSED
    if s == XPRESSURE and q < -qtol:
        return CLOSED
    return s


def pressure_valve_status_reference(
    valves, kind, start, end, status, setting, flow, head, elevation, minor_loss, htol, qtol,
) -> bool:
    """Reference of :func:`pressure_valve_status`: EPANET's transition table, written as one.

    ``(current status) -> [(condition, new status), ...]``, first condition that holds wins.
    """
    change = False
    for k in valves:
        if setting[k] == MISSING:
            continue
        q, h1, h2 = flow[k], head[start[k]], head[end[k]]
        hml = minor_loss[k] * q * q
        reverse = q < -qtol
        if kind[k] == PRV:
            hset = elevation[end[k]] + setting[k]
            table = {
                ACTIVE: [(reverse, CLOSED), (h1 - hml < hset - htol, OPEN)],
                OPEN: [(reverse, CLOSED), (h2 >= hset + htol, ACTIVE)],
                CLOSED: [(h1 >= hset + htol and h2 < hset - htol, ACTIVE),
                         (h1 < hset - htol and h1 > h2 + htol, OPEN)],
                XPRESSURE: [(reverse, CLOSED)],
            }
        else:
            hset = elevation[start[k]] + setting[k]
            table = {
                ACTIVE: [(reverse, CLOSED), (h2 + hml > hset + htol, OPEN)],
                OPEN: [(reverse, CLOSED), (h1 < hset - htol, ACTIVE)],
                CLOSED: [(h2 > hset + htol and h1 > h2 + htol, OPEN),
                         (h1 >= hset + htol and h1 > h2 + htol, ACTIVE)],
                XPRESSURE: [(reverse, CLOSED)],
            }
        old = int(status[k])
        new = next((target for holds, target in table.get(old, []) if holds), old)
        if new != old:
            status[k] = new
            change = True
    return change


@njit(cache=True, error_model="numpy")
def _cv_rule(s: int, dh: float, q: float, htol: float, qtol: float) -> int:
    """EPANET ``cvstatus``: a check valve closes against reverse head or flow."""
    if abs(dh) > htol:
        if dh < -htol or q < -qtol:
            return CLOSED
        return OPEN
    return CLOSED if q < -qtol else s


@njit(cache=True, error_model="numpy")
def link_status(
    links: np.ndarray, kind: np.ndarray, start: np.ndarray, end: np.ndarray, status: np.ndarray,
    setting: np.ndarray, flow: np.ndarray, head: np.ndarray, pump_type: np.ndarray,
    pump_hmax: np.ndarray, tank_of_node: np.ndarray, node_kind: np.ndarray, tank_hmax: np.ndarray,
    tank_hmin: np.ndarray, tank_overflow: np.ndarray, n_junctions: int, htol: float, qtol: float,
) -> bool:
    """EPANET's ``linkstatus`` on ``links``: check valves, pumps beyond their shutoff head, flow
    control valves, and links that would fill a full tank or drain an empty one. True on a change.
    """
    change = False
    for m in range(links.shape[0]):
        k = links[m]
        n1, n2 = start[k], end[k]
        dh = head[n1] - head[n2]
        s = status[k]
        new = OPEN if (s == XHEAD or s == TEMPCLOSED) else s
        t = kind[k]
        if t == CVPIPE:
            new = _cv_rule(new, dh, flow[k], htol, qtol)
        if t == PUMP and new >= OPEN and setting[k] > 0.0:
            # EPANET pumpstatus: OPEN, or XHEAD beyond the speed-adjusted shutoff head
            new = OPEN
            if pump_type[k] != CONST_HP and -dh > setting[k] * setting[k] * pump_hmax[k] + htol:
                new = XHEAD
        if t == FCV and setting[k] != MISSING:
            # EPANET fcvstatus starts from the status before the XHEAD/TEMPCLOSED reset
            new = s
            if dh < -htol or flow[k] < -qtol:
                new = XFCV
            elif s == XFCV and flow[k] >= setting[k]:
                new = ACTIVE
        if (n1 >= n_junctions or n2 >= n_junctions) and new > CLOSED:
            a, b, q = n1, n2, flow[k]
            tank = tank_of_node[a] if node_kind[a] == TANK else -1
            if tank < 0:
                tank = tank_of_node[b] if node_kind[b] == TANK else -1
                a, b, q = n2, n1, -flow[k]
            if tank >= 0:
                h = head[a] - head[b]
                if head[a] >= tank_hmax[tank] - htol and not tank_overflow[tank]:
                    if t == PUMP:
                        if end[k] == a:
                            new = TEMPCLOSED
                    elif _cv_rule(OPEN, h, q, htol, qtol) == CLOSED:
                        new = TEMPCLOSED
                if head[a] <= tank_hmin[tank] + htol:
                    if t == PUMP:
                        if start[k] == a:
                            new = TEMPCLOSED
                    elif _cv_rule(CLOSED, h, q, htol, qtol) == OPEN:
                        new = TEMPCLOSED
        if new != s:
            status[k] = new
            change = True
    return change


def link_status_reference(links, kind, start, end, status, setting, flow, head, pump_type, pump_hmax,
                          tank_of_node, node_kind, tank_hmax, tank_hmin, tank_overflow, n_junctions,
                          htol, qtol) -> bool:
    """Reference of :func:`link_status`, following EPANET's hydstatus.c function by function."""

    def cvstatus(s, dh, q):
        if abs(dh) > htol:
            return CLOSED if (dh < -htol or q < -qtol) else OPEN
        return CLOSED if q < -qtol else s

    def pumpstatus(k, gain):
        if pump_type[k] == CONST_HP:
            return OPEN
        return XHEAD if gain > setting[k] ** 2 * pump_hmax[k] + htol else OPEN

    def fcvstatus(k, s, h1, h2):
        if h1 - h2 < -htol or flow[k] < -qtol:
            return XFCV
        if s == XFCV and flow[k] >= setting[k]:
            return ACTIVE
        return s

    def tankstatus(k, s, n1, n2):
        q = flow[k]
        if node_kind[n1] != TANK:
            if node_kind[n2] != TANK:
                return s
            n1, n2, q = n2, n1, -q
        tank = tank_of_node[n1]
        h = head[n1] - head[n2]
        if head[n1] >= tank_hmax[tank] - htol and not tank_overflow[tank]:
            if kind[k] == PUMP:
                if end[k] == n1:
                    s = TEMPCLOSED
            elif cvstatus(OPEN, h, q) == CLOSED:
                s = TEMPCLOSED
        if head[n1] <= tank_hmin[tank] + htol:
            if kind[k] == PUMP:
                if start[k] == n1:
                    s = TEMPCLOSED
            elif cvstatus(CLOSED, h, q) == OPEN:
                s = TEMPCLOSED
        return s

    change = False
    for k in links:
        n1, n2 = int(start[k]), int(end[k])
        dh = head[n1] - head[n2]
        old = int(status[k])
        s = OPEN if old in (XHEAD, TEMPCLOSED) else old
        if kind[k] == CVPIPE:
            s = cvstatus(s, dh, flow[k])
        if kind[k] == PUMP and s >= OPEN and setting[k] > 0.0:
            s = pumpstatus(k, -dh)
        if kind[k] == FCV and setting[k] != MISSING:
            s = fcvstatus(k, old, head[n1], head[n2])
        if (n1 >= n_junctions or n2 >= n_junctions) and s > CLOSED:
            s = tankstatus(k, s, n1, n2)
        if s != old:
            status[k] = s
            change = True
    return change


