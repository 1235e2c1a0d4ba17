"""The engine's metrics recorder: time series and events that any process can write to.

Processes call :meth:`Recorder.record` for sampled quantities (a queue length, a pressure) and
:meth:`Recorder.event` for things that happen (a burst opens, a bus departs). Scenarios turn them
into tables with :meth:`Recorder.series_frame` and :meth:`Recorder.events_frame`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class Recorder:
    """Collects ``(time_s, value)`` samples per named series, and timestamped events."""

    def __init__(self) -> None:
        self._series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self._events: list[dict[str, Any]] = []

    def record(self, series: str, time_s: float, value: float) -> None:
        """Append one sample of ``series`` at simulated time ``time_s``."""
        self._series[series].append((float(time_s), float(value)))

    def event(self, name: str, time_s: float, **fields: Any) -> None:
        """Log an event ``name`` at ``time_s`` with free-form fields."""
        self._events.append({"time_s": float(time_s), "event": name, **fields})

    def samples(self, series: str) -> list[tuple[float, float]]:
        """The samples of one series, in recording order."""
        return list(self._series.get(series, []))

    def series_names(self) -> list[str]:
        """Names of every series recorded so far, sorted."""
        return sorted(self._series)

    def series_frame(self) -> pd.DataFrame:
        """All samples as a long table with columns ``series, time_s, value``."""
        import pandas as pd  # deferred: pandas is heavy; the engine records without it

        rows = [
            (name, time_s, value)
            for name in sorted(self._series)
            for time_s, value in self._series[name]
        ]
        return pd.DataFrame(rows, columns=["series", "time_s", "value"])

    def events_frame(self) -> pd.DataFrame:
        """All events as a table with columns ``time_s, event`` and the union of their fields."""
        import pandas as pd  # deferred: pandas is heavy; the engine records without it

        if not self._events:
            return pd.DataFrame(columns=["time_s", "event"])
        return pd.DataFrame(self._events)
