"""The engine: one clock, named random streams, the recorder."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from twin.engine import Engine

START = datetime(2025, 6, 3, 7)


@given(seed=st.integers(0, 2**32), name=st.text(min_size=1, max_size=12))
def test_named_streams_are_reproducible(seed, name):
    first = Engine(seed, START, 10).rng(name).random(5)
    second = Engine(seed, START, 10).rng(name).random(5)
    assert np.array_equal(first, second)


def test_streams_are_independent_of_creation_order():
    a = Engine(5, START, 10)
    a.rng("water").random(100)
    traffic_after_water = a.rng("traffic").random(3)
    traffic_alone = Engine(5, START, 10).rng("traffic").random(3)
    assert np.array_equal(traffic_after_water, traffic_alone)
    assert not np.array_equal(traffic_alone, Engine(5, START, 10).rng("water").random(3))


def test_run_advances_clock_to_duration_and_processes_share_it():
    engine = Engine(0, START, 125.0)
    ticks = []

    def ticker():
        while True:
            ticks.append(engine.now_s)
            engine.recorder.record("tick", engine.now_s, len(ticks))
            yield engine.env.timeout(10)

    engine.process(ticker())
    engine.run()
    assert engine.now_s == 125.0
    assert ticks == [float(10 * k) for k in range(13)]
    assert engine.clock() == datetime(2025, 6, 3, 7, 2, 5)
    frame = engine.recorder.series_frame()
    assert list(frame.columns) == ["series", "time_s", "value"]
    assert len(frame) == 13


def test_events_frame():
    engine = Engine(0, START, 10)
    engine.recorder.event("burst", 3.0, pipe="P1")
    frame = engine.recorder.events_frame()
    assert frame.loc[0, "event"] == "burst" and frame.loc[0, "pipe"] == "P1"
