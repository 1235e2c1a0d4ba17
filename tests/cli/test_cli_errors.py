"""Bad input: exit status 2, one clear line naming file/key/value, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD = """
[scenario]
kind = "hotline_queue"
name = "tiny"
seed = 3
duration_s = 600.0

[hotline]
agents = 2
calls_per_h = [30.0]
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_clean_failure(outcome, out_dir: Path, *fragments: str) -> None:
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert "Traceback" not in outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out_dir.exists()
    assert not list(out_dir.parent.glob(f".{out_dir.name}*"))


BAD_CASES = {
    "toml syntax": (GOOD.replace('seed = 3', 'seed = = 3'), ("s.toml", "line 5")),
    "unknown kind": (GOOD.replace("hotline_queue", "teleporter"), ("kind", "teleporter", "known")),
    "unknown key": (GOOD.replace("agents = 2", "agentz = 2"), ("agentz", "did you mean 'agents'")),
    "unit-less key": (GOOD.replace("duration_s = 600.0", "duration = 600.0"), ("duration",)),
    "negative duration": (GOOD.replace("600.0", "-600.0"), ("duration_s", "-600", "greater than 0")),
    "seed not integer (string)": (GOOD.replace("seed = 3", 'seed = "3"'), ("seed", "'3'", "integer")),
    "seed not integer (float)": (GOOD.replace("seed = 3", "seed = 3.5"), ("seed", "3.5", "integer")),
    "wrong type": (GOOD.replace("agents = 2", 'agents = "two"'), ("agents", "two")),
    "out of range": (GOOD.replace("agents = 2", "agents = 0"), ("agents", "0")),
    "missing table": ("[hotline]\nagents = 2\n", ("[scenario]",)),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_scenario_file_exits_2_with_one_line(case, tmp_path, twin_cli):
    text, fragments = BAD_CASES[case]
    path = write(tmp_path, text)
    out_dir = tmp_path / "out"
    outcome = twin_cli("run", path, "--out", out_dir)
    assert_clean_failure(outcome, out_dir, str(path), *fragments)
    assert twin_cli("validate", path).exit_code == 2


def test_missing_file(tmp_path, twin_cli):
    out_dir = tmp_path / "out"
    outcome = twin_cli("run", tmp_path / "nope.toml", "--out", out_dir)
    assert_clean_failure(outcome, out_dir, "nope.toml", "not found")


def test_seed_option_not_integer(tmp_path, twin_cli):
    path = write(tmp_path, GOOD)
    outcome = twin_cli("run", path, "--out", tmp_path / "out", "--seed", "abc")
    assert outcome.exit_code == 2
    assert "abc" in outcome.stderr and "Traceback" not in outcome.stderr
    assert not (tmp_path / "out").exists()


def test_existing_results_refused_without_force(tmp_path, twin_cli):
    path = write(tmp_path, GOOD)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("precious")
    outcome = twin_cli("run", path, "--out", out_dir)
    assert outcome.exit_code == 2
    assert "--force" in outcome.stderr
    assert (out_dir / "keep.txt").read_text() == "precious"
    assert twin_cli("run", path, "--out", out_dir, "--force", "--quiet").exit_code == 0
    assert not (out_dir / "keep.txt").exists()
    assert (out_dir / "kpis.json").exists()


def test_internal_error_exits_1_and_points_to_log(tmp_path, twin_cli, monkeypatch):
    import scenarios.kinds.hotline_12345 as hotline

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(hotline, "simulate", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out_dir = tmp_path / "out"
    outcome = twin_cli("run", write(tmp_path, GOOD), "--out", out_dir)
    assert outcome.exit_code == 1
    assert "internal error" in outcome.stderr and "boom" in outcome.stderr
    log_path = Path(outcome.stderr.split("details in ")[1].rstrip(")\n"))
    assert "ZeroDivisionError" in log_path.read_text()
    assert not out_dir.exists()


def test_help_is_useful_for_every_command(twin_cli):
    root = twin_cli("--help")
    assert root.exit_code == 0
    for command in ("run", "validate", "scenarios", "suite", "info"):
        assert command in root.stdout
        sub = twin_cli(command, "--help")
        assert sub.exit_code == 0, command
        assert len(sub.stdout.strip().splitlines()) > 3


def test_a_model_level_error_is_one_line_at_top_level():
    """A cross-field check (a model validator) has no key to name: it reads '(top level)'."""
    from pydantic import model_validator

    from twin.config import StrictModel, validate
    from twin.errors import InputError

    class Window(StrictModel):
        start_s: float
        end_s: float

        @model_validator(mode="after")
        def _ordered(self) -> Window:
            if self.end_s <= self.start_s:
                raise ValueError("end_s must be after start_s")
            return self

    with pytest.raises(InputError) as caught:
        validate(Window, {"start_s": 5.0, "end_s": 1.0}, "w.toml")
    message = str(caught.value)
    assert "(top level)" in message and "end_s must be after start_s" in message
    assert "\n" not in message


def test_a_command_exit_status_reaches_the_shell(twin_cli):
    """``typer.Exit(code)`` inside a command is the process's exit status, not 0."""
    import typer

    from twin_cli import app

    def failing() -> None:
        raise typer.Exit(3)

    app.command("exit-three-for-test")(failing)
    try:
        assert twin_cli("exit-three-for-test").exit_code == 3
    finally:
        app.registered_commands.pop()
