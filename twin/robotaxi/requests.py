"""Ride requests: who wants a robotaxi, from where to where, when, how many, how long they wait.

Requests come from a trip file (Parquet or CSV, one row per request) or are drawn from a
place-to-place demand table: daily requests per pair of areas, spread over the hours by an hourly
profile (Poisson counts per hour, uniform times within the hour), from a random road node of the
origin area to one of the destination area.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import InputError

REQUIRED = ("origin_node", "destination_node", "request_time_s")
OPTIONAL = {"party_size": 1, "max_wait_s": 600.0}

DEFAULT_PARTY_SHARE = (0.70, 0.20, 0.07, 0.03)
"""Share of requests for 1, 2, 3 and 4 riders (assumption for ride-hailing in a Chinese city)."""

RIDE_HAIL_HOURLY_SHARE = (
    0.010, 0.006, 0.004, 0.003, 0.004, 0.010, 0.030, 0.065, 0.075, 0.060, 0.050, 0.050,
    0.055, 0.050, 0.050, 0.052, 0.058, 0.075, 0.075, 0.060, 0.050, 0.042, 0.034, 0.022,
)
"""Share of a day's ride-hailing requests in each hour 00–23 (assumption: commuter peaks at
08 and 17–18 and an evening tail, the shape of published Didi hourly profiles; sums to 1.03,
normalised on use)."""


@dataclass
class Requests:
    """Ride requests sorted by request time: road nodes, time (s from the run start), party
    size (riders) and the longest wait each rider accepts (s)."""

    origin_node: np.ndarray
    destination_node: np.ndarray
    request_time_s: np.ndarray
    party_size: np.ndarray
    max_wait_s: np.ndarray

    def __len__(self) -> int:
        return len(self.request_time_s)

    def sorted(self) -> Requests:
        order = np.argsort(self.request_time_s, kind="stable")
        return Requests(*(getattr(self, f)[order] for f in self.__dataclass_fields__))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({f: getattr(self, f) for f in self.__dataclass_fields__})


def requests_from_frame(frame: pd.DataFrame, nodes: set[int], horizon_s: float, source: str) -> Requests:
    """Requests from a table with ``origin_node, destination_node, request_time_s`` and optional
    ``party_size`` (default 1) and ``max_wait_s`` (default 600 s).

    Raises :class:`InputError` naming ``source``, the row and column of the first bad value: a
    node not on the road network, a time outside ``[0, horizon_s)``, a party size under 1 or over
    8, a wait not above 0.
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: missing column {missing[0]!r} (expected {', '.join(REQUIRED)})")
    frame = frame.assign(**{c: frame[c] if c in frame else v for c, v in OPTIONAL.items()})
    for column in ("origin_node", "destination_node"):
        bad = ~frame[column].isin(nodes)
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise InputError(f"{source}: row {row} {column} = {frame[column].iloc[row]} is not a road "
                             "node of the city (the request is outside the road network)")
    checks = (
        ("request_time_s", lambda x: (x >= 0) & (x < horizon_s), f"a time in [0, {horizon_s:g}) s (the horizon)"),
        ("party_size", lambda x: (x >= 1) & (x <= 8), "1 to 8 riders"),
        ("max_wait_s", lambda x: x > 0, "a wait above 0 s"),
    )
    for column, ok, expected in checks:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        good = np.isfinite(values) & ok(np.nan_to_num(values, nan=-1.0))
        if not good.all():
            row = int(np.argmin(good))
            raise InputError(f"{source}: row {row} {column} = {frame[column].iloc[row]}, expected {expected}")
    return Requests(
        frame["origin_node"].to_numpy(np.int64),
        frame["destination_node"].to_numpy(np.int64),
        frame["request_time_s"].to_numpy(float),
        frame["party_size"].to_numpy(np.int64),
        frame["max_wait_s"].to_numpy(float),
    ).sorted()


def read_table(path: Path, key: str) -> pd.DataFrame:
    """A Parquet (``.parquet``) or CSV table; a missing or unreadable file is an :class:`InputError`."""
    if not path.is_file():
        raise InputError(f"{key}: file {str(path)!r} not found")
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise InputError(f"{key}: {str(path)!r} is not a readable table ({type(exc).__name__})") from None


def read_requests(path: Path, nodes: set[int], horizon_s: float, key: str) -> Requests:
    """:func:`requests_from_frame` of a Parquet or CSV trip file (``key`` names it in errors)."""
    return requests_from_frame(read_table(path, key), nodes, horizon_s, f"{key} ({path.name})")


@dataclass
class Flow:
    """Daily requests from any road node of one area to any of another."""

    origin_nodes: np.ndarray
    destination_nodes: np.ndarray
    requests_per_day: float


def draw_requests(rng: np.random.Generator, flows: list[Flow], start_hour: float, duration_s: float,
                  max_wait_s: float, hourly_share=RIDE_HAIL_HOURLY_SHARE,
                  party_share=DEFAULT_PARTY_SHARE) -> Requests:
    """Poisson requests per flow and hour of the run (uniform within the hour), sorted by time."""
    share = np.asarray(hourly_share, float) / float(np.sum(hourly_share))
    parts: list[tuple] = []
    for begin in np.arange(0.0, duration_s, 3600.0):
        length = min(3600.0, duration_s - begin)
        hour = int((start_hour + begin / 3600.0) % 24)
        for flow in flows:
            n = rng.poisson(flow.requests_per_day * share[hour] * length / 3600.0)
            parts.append((rng.choice(flow.origin_nodes, n), rng.choice(flow.destination_nodes, n),
                          begin + rng.uniform(0.0, length, n)))
    o = np.concatenate([p[0] for p in parts]).astype(np.int64) if parts else np.zeros(0, np.int64)
    d = np.concatenate([p[1] for p in parts]).astype(np.int64) if parts else np.zeros(0, np.int64)
    t = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    party = rng.choice(np.arange(1, len(party_share) + 1), len(t), p=np.asarray(party_share) / sum(party_share))
    return Requests(o, d, t, party.astype(np.int64), np.full(len(t), float(max_wait_s))).sorted()
