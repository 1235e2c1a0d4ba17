"""The typhoon day and the city brain as a user meets them: whole processes on this machine.

Targets (issue 19): the full typhoon day in at most 5 minutes; one 1-hour projection of 20
members in at most 60 s. Peers, measured in the same run: the single-system burst scenario
(``wuhang_main_burst``, the water package's story alone) for the coupled day, and the same
projection with one member for the brain (so the ratio is what 19 more members cost).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TWIN = [str(Path(sys.executable).with_name("twin"))]
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.mark.benchmark(group="typhoon")
def test_typhoon_day_whole_process(benchmark, peer_comparison, tmp_path):
    out = tmp_path / "typhoon"
    benchmark.pedantic(lambda: _run([*TWIN, "run", str(SCENARIOS / "typhoon_day.toml"), "--out", str(out),
                                     "--force", "--quiet"]), rounds=1, warmup_rounds=0)
    benchmark.extra_info["target_s"] = 300.0
    burst = tmp_path / "burst"
    peer_comparison("twin run typhoon_day.toml, whole process", peer="twin run wuhang_main_burst.toml (one system)",
                    peer_fn=lambda: _run([*TWIN, "run", str(SCENARIOS / "wuhang_main_burst.toml"), "--out",
                                          str(burst), "--force", "--quiet"]), rounds=1, warmup_rounds=0)


@pytest.mark.benchmark(group="typhoon")
def test_brain_20_members_whole_process(benchmark, peer_comparison, tmp_path):
    def brain(members: int) -> None:
        _run([*TWIN, "brain", str(SCENARIOS / "typhoon_day.toml"), "--at", "10:00", "--members", str(members),
              "--out", str(tmp_path / f"brain{members}"), "--force", "--quiet"])

    benchmark.pedantic(lambda: brain(20), rounds=1, warmup_rounds=0)
    benchmark.extra_info["target_s"] = 60.0
    peer_comparison("twin brain --members 20, whole process", peer="twin brain --members 1, whole process",
                    peer_fn=lambda: brain(1), rounds=1, warmup_rounds=0)
