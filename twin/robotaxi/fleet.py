"""The fleet: vehicle types and batteries, charging stations, and a run of the dispatch kernel.

Consumption is ``kwh_per_km`` of the vehicle type times :func:`temperature_factor` of the day's
air temperature (cabin heating in the cold, cooling in the heat). Stations have plugs of one
power rating; the charging curve is flat to 80 % and tapers linearly to zero at 100 %
(:mod:`kernels.dispatch`). Idle vehicles wait where they dropped their last rider unless the
policy rebalances them (:mod:`twin.robotaxi.policies`), and do not drain their battery while
parked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kernels.dispatch.layout import (
    N_PARAMS,
    P_CHARGE_BELOW,
    P_CHARGE_TO,
    P_TAPER_FROM,
    R_DEPART,
    R_DROPOFF,
    R_ENERGY_KWH,
    R_PICKUP,
    R_PICKUP_KM,
    R_TRIP_KM,
    S_ARRIVE,
    S_DRIVE_KWH,
    S_END,
    S_KWH,
    S_SOC_END,
    S_SOC_START,
    S_START,
    SI_PLUG,
    SI_REQUEST,
    SI_STATION,
    SI_VEHICLE,
)
from kernels.dispatch.rebalance import M_END, M_KM, M_KWH, M_START, MI_PLACE, MI_VEHICLE
from twin.errors import InputError
from twin.robotaxi.policies import DispatchPolicy, NearestVehicle
from twin.robotaxi.requests import Requests
from twin.robotaxi.tables import PlaceTables


@dataclass(frozen=True)
class VehicleType:
    """A robotaxi model: usable battery (kWh), consumption at 20 °C (kWh/km), rider seats."""

    battery_kwh: float
    kwh_per_km: float
    seats: int


VEHICLE_TYPES = {
    # Assumptions in the range of published figures for electric ride-hailing cars in China
    # (e.g. a BYD e5 / Baidu Apollo RT6 class sedan and a 6-seat MPV), not measured data.
    "robotaxi_sedan": VehicleType(battery_kwh=60.0, kwh_per_km=0.15, seats=4),
    "robotaxi_mpv": VehicleType(battery_kwh=75.0, kwh_per_km=0.20, seats=6),
}


def temperature_factor(air_temp_c: float) -> float:
    """Multiplier on consumption at ``air_temp_c`` (°C): 1 between 18 and 26 °C, +1.5 % per °C
    below 18 (heating, cold battery), +0.8 % per °C above 26 (air conditioning).

    An assumption of the order of published EV range losses (about 25–30 % at 0 °C).
    """
    return 1.0 + 0.015 * max(0.0, 18.0 - air_temp_c) + 0.008 * max(0.0, air_temp_c - 26.0)


@dataclass
class Fleet:
    """Vehicles as arrays: start node, state of charge (kWh), capacity (kWh), kWh/km, seats."""

    start_node: np.ndarray
    soc_kwh: np.ndarray
    battery_kwh: np.ndarray
    kwh_per_km: np.ndarray
    seats: np.ndarray
    type_name: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.start_node)


def make_fleet(counts: dict[str, int], start_nodes: np.ndarray, air_temp_c: float, initial_soc: float,
               rng: np.random.Generator, vehicle_types: dict[str, VehicleType] | None = None) -> Fleet:
    """``counts[type]`` vehicles of each type at random ``start_nodes``; the types are
    ``vehicle_types`` (default :data:`VEHICLE_TYPES`)."""
    known = VEHICLE_TYPES if vehicle_types is None else vehicle_types
    names = [name for name, n in counts.items() for _ in range(int(n))]
    for name in counts:
        if name not in known:
            raise InputError(f"vehicle type {name!r} unknown, expected one of {sorted(known)}")
    types = [known[n] for n in names]
    battery = np.array([t.battery_kwh for t in types], float)
    return Fleet(
        start_node=rng.choice(np.asarray(start_nodes, np.int64), len(names)),
        soc_kwh=battery * initial_soc,
        battery_kwh=battery,
        kwh_per_km=np.array([t.kwh_per_km for t in types], float) * temperature_factor(air_temp_c),
        seats=np.array([t.seats for t in types], np.int64),
        type_name=names,
    )


@dataclass(frozen=True)
class Station:
    """A charging station: its name, road node, number of plugs and power per plug (kW)."""

    name: str
    node: int
    plugs: int
    power_kw: float


@dataclass(frozen=True)
class ChargingRules:
    """When to charge (below ``charge_below`` of capacity after a drop-off), to what level
    (``charge_to``, < 1) and where the taper starts (``taper_from``)."""

    charge_below: float = 0.25
    charge_to: float = 0.9
    taper_from: float = 0.8

    def params(self) -> np.ndarray:
        out = np.zeros(N_PARAMS)
        out[P_CHARGE_BELOW], out[P_CHARGE_TO], out[P_TAPER_FROM] = self.charge_below, self.charge_to, self.taper_from
        return out


@dataclass
class FleetRun:
    """What a run gives: one row per request (``trips``), per charging session (``sessions``) and
    per rebalancing drive (``moves``)."""

    trips: pd.DataFrame
    sessions: pd.DataFrame
    final_soc_kwh: np.ndarray
    duration_s: float
    stations: list[Station]
    fleet: Fleet
    moves: pd.DataFrame = field(default_factory=pd.DataFrame)  # rebalancing drives, one row each


def simulate(tables: PlaceTables, requests: Requests, fleet: Fleet, stations: list[Station],
             rules: ChargingRules, duration_s: float, policy: DispatchPolicy | None = None) -> FleetRun:
    """Serve ``requests`` with ``fleet`` and ``stations`` on ``tables`` by ``policy`` (default
    :class:`~twin.robotaxi.policies.NearestVehicle`)."""
    if len(fleet) == 0:
        raise InputError("the fleet has no vehicles")
    plugs = np.array([s.plugs for s in stations], np.int64)
    req_vehicle, req_out, ses_out, ses_int, soc, _, _, mov_out, mov_int, pool_with = (policy or NearestVehicle()).run(
        place_nodes=tables.nodes,
        req_time_s=requests.request_time_s.astype(float),
        req_origin=tables.place_of(requests.origin_node, "request origin"),
        req_dest=tables.place_of(requests.destination_node, "request destination"),
        req_max_wait_s=requests.max_wait_s.astype(float), req_party=requests.party_size.astype(np.int64),
        bin_start_s=tables.bin_start_s, time_s=tables.time_s, dist_km=tables.dist_km,
        veh_place=tables.place_of(fleet.start_node, "vehicle start"), veh_soc_kwh=fleet.soc_kwh.astype(float),
        veh_battery_kwh=fleet.battery_kwh.astype(float), veh_kwh_per_km=fleet.kwh_per_km.astype(float),
        veh_seats=fleet.seats.astype(np.int64),
        station_place=tables.place_of([s.node for s in stations], "station"),
        station_power_kw=np.array([s.power_kw for s in stations], float),
        plug_ptr=np.concatenate([[0], np.cumsum(plugs)]).astype(np.int64), params=rules.params(),
    )
    trips = requests.to_frame().assign(
        vehicle=req_vehicle,
        depart_s=req_out[:, R_DEPART], pickup_s=req_out[:, R_PICKUP], dropoff_s=req_out[:, R_DROPOFF],
        pickup_km=req_out[:, R_PICKUP_KM], trip_km=req_out[:, R_TRIP_KM], energy_kwh=req_out[:, R_ENERGY_KWH],
    )
    trips["pooled_with"] = pool_with  # the co-rider's request row of a shared ride, −1 if alone
    trips["wait_s"] = trips["pickup_s"] - trips["request_time_s"]
    trips["trip_time_s"] = trips["dropoff_s"] - trips["pickup_s"]
    sessions = pd.DataFrame({
        "vehicle": ses_int[:, SI_VEHICLE], "station": ses_int[:, SI_STATION], "plug": ses_int[:, SI_PLUG],
        "after_request": ses_int[:, SI_REQUEST], "arrive_s": ses_out[:, S_ARRIVE],
        "start_s": ses_out[:, S_START], "end_s": ses_out[:, S_END], "charged_kwh": ses_out[:, S_KWH],
        "soc_start": ses_out[:, S_SOC_START], "soc_end": ses_out[:, S_SOC_END],
        "drive_kwh": ses_out[:, S_DRIVE_KWH],
    })
    sessions["queue_s"] = sessions["start_s"] - sessions["arrive_s"]
    moves = pd.DataFrame({
        "vehicle": mov_int[:, MI_VEHICLE], "to_node": tables.nodes[mov_int[:, MI_PLACE]],
        "start_s": mov_out[:, M_START], "end_s": mov_out[:, M_END], "km": mov_out[:, M_KM],
        "energy_kwh": mov_out[:, M_KWH],
    })
    return FleetRun(trips, sessions, soc, duration_s, stations, fleet, moves)


def station_load_kw(run: FleetRun, rules: ChargingRules, bin_s: float = 900.0) -> pd.DataFrame:
    """Mean power drawn by each station in each ``bin_s`` bin over the run (kW).

    Within a session the power is the plug's rating until the taper starts, then decays as
    ``P·exp(−(t − t_f)/τ)`` with ``τ = C (1 − f) / P`` (the solution of the linear taper), so the
    energy of each bin is integrated exactly.
    """
    n_bins = max(1, math.ceil(run.duration_s / bin_s))
    edges = np.arange(n_bins + 1) * bin_s
    load = np.zeros((len(run.stations), n_bins))
    for row in run.sessions.itertuples():
        station = run.stations[row.station]
        capacity = float(run.fleet.battery_kwh[row.vehicle])
        power = station.power_kw
        flat_kwh = max(0.0, min(rules.taper_from, row.soc_end) - row.soc_start) * capacity
        t_flat_end = row.start_s + flat_kwh / power * 3600.0
        tau_s = capacity * (1 - rules.taper_from) / power * 3600.0
        a = np.clip(edges[:-1], row.start_s, row.end_s)
        b = np.clip(edges[1:], row.start_s, row.end_s)
        fa, fb = np.minimum(a, t_flat_end), np.minimum(b, t_flat_end)
        kwh = power * (fb - fa) / 3600.0
        ta, tb = np.maximum(a, t_flat_end), np.maximum(b, t_flat_end)
        kwh += power * tau_s / 3600.0 * (np.exp(-(ta - t_flat_end) / tau_s) - np.exp(-(tb - t_flat_end) / tau_s))
        load[row.station] += kwh
    frame = pd.DataFrame(load * 3600.0 / bin_s, columns=edges[:-1])
    frame.insert(0, "station", [s.name for s in run.stations])
    return frame.melt(id_vars="station", var_name="bin_start_s", value_name="power_kw")
