"""Analytic queueing results used to check the simulations (Erlang B/C, Little's law).

These are the reference formulas the validation tests compare simulated waits against: the
12345 hotline (M/M/c) and the GPU cluster with single-GPU exponential jobs (M/M/c, c GPUs).
"""

from __future__ import annotations

import math


def erlang_b(servers: int, offered_load_erl: float) -> float:
    """Blocking probability of M/M/c/c, by the numerically stable recursion.

    ``B(0) = 1``, ``B(k) = a·B(k-1) / (k + a·B(k-1))`` with ``a`` the offered load in erlangs.
    """
    if servers < 0 or offered_load_erl < 0:
        raise ValueError("servers and offered load must be non-negative")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load_erl * blocking / (k + offered_load_erl * blocking)
    return blocking


def erlang_c(servers: int, offered_load_erl: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C); requires load < servers."""
    if offered_load_erl >= servers:
        raise ValueError(f"unstable queue: offered load {offered_load_erl} ≥ {servers} servers")
    blocking = erlang_b(servers, offered_load_erl)
    rho = offered_load_erl / servers
    return blocking / (1.0 - rho * (1.0 - blocking))


def mmc_mean_wait_s(servers: int, arrival_rate_per_s: float, mean_service_s: float) -> float:
    """Mean time in queue (before service) of M/M/c, in seconds: ``C(c,a) / (cμ − λ)``."""
    offered_load_erl = arrival_rate_per_s * mean_service_s
    service_rate_per_s = 1.0 / mean_service_s
    waiting_probability = erlang_c(servers, offered_load_erl)
    return waiting_probability / (servers * service_rate_per_s - arrival_rate_per_s)


def littles_law_number(arrival_rate_per_s: float, mean_time_s: float) -> float:
    """Little's law ``L = λ·W``: mean number in a system from its throughput and mean time."""
    return arrival_rate_per_s * mean_time_s


def mmc_service_level(servers: int, arrival_rate_per_s: float, mean_service_s: float, target_s: float) -> float:
    """Share of M/M/c arrivals answered within ``target_s``: ``1 − C(c,a)·exp(−(cμ − λ)·t)``;
    0 for an unstable queue (load ≥ servers)."""
    offered_load_erl = arrival_rate_per_s * mean_service_s
    if offered_load_erl >= servers:
        return 0.0
    service_rate_per_s = 1.0 / mean_service_s
    waiting = erlang_c(servers, offered_load_erl)
    return 1.0 - waiting * math.exp(-(servers * service_rate_per_s - arrival_rate_per_s) * target_s)


def servers_for_service_level(arrival_rate_per_s: float, mean_service_s: float, target_s: float,
                              share: float) -> int:
    """The fewest M/M/c servers that answer ``share`` (0–1) of arrivals within ``target_s``."""
    servers = max(1, math.floor(arrival_rate_per_s * mean_service_s) + 1)
    while mmc_service_level(servers, arrival_rate_per_s, mean_service_s, target_s) < share:
        servers += 1
    return servers
