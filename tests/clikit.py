"""Driving the real CLI in tests: run a verb, refuse tracebacks, read rich's wrapped output."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from safercities.cli.app import app

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    """Exit code and output of ``safercities ARGS``; any uncaught exception fails the test."""
    result = runner.invoke(app, [str(a) for a in args])
    output = result.output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{output}")
    return result.exit_code, output


def words(output: str) -> str:
    return " ".join(output.split())  # rich wraps lines at the terminal width


def assert_one_line_error(code: int, output: str, *expected: str) -> None:
    """A user's mistake: exit 2, one line starting with 'error:', holding the expected words."""
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error:"), output
    for word in expected:
        assert word in lines[0], output
