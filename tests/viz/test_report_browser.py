"""Reports as a browser shows them: headless Chromium loads each page, the answer comes first,
no KPI label is snake_case, and a screenshot is kept as an artefact."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import sweep_kinds  # noqa: F401 - registers the test-only `sweep_probe` kind
from browser import dom, screenshot
from matplotlib.image import imread

PROBE = """
[scenario]
kind = "sweep_probe"
name = "probe"
description = "A probe run for the browser tests."
seed = 4
duration_s = 60.0
replications = 3

[probe]
samples = 30
figure = true
"""


class Cells(HTMLParser):
    """The text of the first cell of every table row, and the page's headings in order."""

    def __init__(self) -> None:
        super().__init__()
        self.first_cells: list[str] = []
        self.headings: list[str] = []
        self._in: str | None = None
        self._cell_index = 0
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self._cell_index = 0
        if tag in ("td", "h2"):
            self._in, self._text = tag, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._in == "td":
            if self._cell_index == 0:
                self.first_cells.append(self._text.strip())
            self._cell_index += 1
            self._in = None
        if tag == "h2" and self._in == "h2":
            self.headings.append(self._text.strip())
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data


def parsed(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def test_a_run_report_in_chromium_answers_first_with_readable_labels(tmp_path, twin_cli):
    scenario = tmp_path / "probe.toml"
    scenario.write_text(PROBE)
    run_dir = tmp_path / "probe"
    assert twin_cli("run", scenario, "--out", run_dir, "-q", "--lang", "en").exit_code == 0
    page = run_dir / "report.html"
    loaded = dom(page)
    cells = parsed(loaded)
    assert cells.headings[0] == "The answer"
    labels = [c for c in cells.first_cells if c]
    assert labels and not [c for c in labels if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", c)]
    assert "90 % interval" in loaded  # replications give intervals
    shot = screenshot(page, "probe_report_en")
    image = imread(shot)
    assert image.shape[0] > 500 and np.std(image) > 0.02  # a drawn page, not a blank one
