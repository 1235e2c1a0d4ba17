"""Analytic queueing results used to check the simulations (Erlang B/C, Little's law).

These are the reference formulas the validation tests compare simulated waits against: the
12345 hotline (M/M/c) and the GPU cluster with single-GPU exponential jobs (M/M/c, c GPUs).
"""

from __future__ import annotations

import math

import numpy as np


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


def mdc_queue_distribution(servers: int, arrival_rate_per_s: float, service_s: float,
                           tolerance: float = 1e-12) -> list[float]:
    """Stationary distribution of the number in system of M/D/c (FCFS), ``p[n]`` for n = 0, 1, ...

    With a deterministic service time D every customer in service at time t has left by t + D, so
    the number in system obeys ``Q(t + D) = max(Q(t) − c, 0) + A`` with A ~ Poisson(λD) the
    arrivals in (t, t + D] (Crommelin 1932). Its stationary law is that of Q at an arbitrary time;
    the chain is solved on a truncated state space that is doubled until the mass beyond it is
    below ``tolerance``. Requires load λD < c.
    """
    from scipy.stats import poisson  # deferred: scipy is slow to import and only M/D/c needs it

    offered_load_erl = arrival_rate_per_s * service_s
    if offered_load_erl >= servers:
        raise ValueError(f"unstable queue: offered load {offered_load_erl} ≥ {servers} servers")
    size = servers + int(offered_load_erl) + 64
    while True:
        arrivals = poisson.pmf(np.arange(size), offered_load_erl)
        transition = np.zeros((size, size))
        for state in range(size):
            base = max(state - servers, 0)
            transition[state, base:] = arrivals[: size - base]
        transition[:, -1] += 1.0 - transition.sum(axis=1)  # the truncated tail folds into the last state
        system = transition.T - np.eye(size)
        system[-1, :] = 1.0
        rhs = np.zeros(size)
        rhs[-1] = 1.0
        probabilities = np.linalg.solve(system, rhs)
        if probabilities[-8:].sum() < tolerance or size > 20000:
            return [float(p) for p in np.clip(probabilities, 0.0, None)]
        size *= 2


def mdc_mean_wait_s(servers: int, arrival_rate_per_s: float, service_s: float) -> float:
    """Mean time in queue (before service) of M/D/c, in seconds, exactly (up to truncation).

    ``Lq = Σ max(n − c, 0)·p[n]`` from :func:`mdc_queue_distribution` (Poisson arrivals see time
    averages), then ``Wq = Lq / λ`` by Little's law.
    """
    probabilities = mdc_queue_distribution(servers, arrival_rate_per_s, service_s)
    queue_length = sum(max(n - servers, 0) * p for n, p in enumerate(probabilities))
    return queue_length / arrival_rate_per_s


def mdc_mean_wait_approx_s(servers: int, arrival_rate_per_s: float, service_s: float) -> float:
    """Mean time in queue of M/D/c (s) by Cosmetatos' (1975) correction of the M/M/c wait.

    ``Wq(M/D/c) ≈ ½·[1 + (1 − ρ)(c − 1)(√(4 + 5c) − 2) / (16ρc)] · Wq(M/M/c)``: the factor ½ is the
    Allen-Cunneen/Kingman scaling ``(ca² + cs²)/2`` for Poisson arrivals (ca² = 1) and deterministic
    service (cs² = 0), and the bracket corrects it at low loads and few servers. It costs one
    Erlang B recursion (O(c)), where :func:`mdc_mean_wait_s` solves a Markov chain of at least
    ``c + λD`` states, which is too slow for the thousands of batch slots of the 10000P centre.
    ``tests/compute/test_compute_inference.py`` bounds its error against the exact solve at small c.
    """
    rho = arrival_rate_per_s * service_s / servers
    if rho >= 1.0:
        raise ValueError(f"unstable queue: offered load {rho * servers} ≥ {servers} servers")
    if rho <= 0.0:
        return 0.0
    correction = 1.0 + (1.0 - rho) * (servers - 1) * (math.sqrt(4.0 + 5.0 * servers) - 2.0) / (16.0 * rho * servers)
    return 0.5 * correction * mmc_mean_wait_s(servers, arrival_rate_per_s, service_s)
