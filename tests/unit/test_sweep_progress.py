"""The sweep's progress on stderr: a bar redrawn in place on a terminal, plain lines (one per
tenth) otherwise; never on stdout, where the summary goes."""

from __future__ import annotations

import io
import sys

import pytest

from app import cli_identity


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_redrawn_in_place_on_a_terminal(monkeypatch: pytest.MonkeyPatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    show = cli_identity._progress("acme")
    show(1, 4)
    show(4, 4)
    assert terminal.getvalue() == (
        f"\racme [{'#' * 7}{'.' * 23}] 1/4 groups\racme [{'#' * 30}] 4/4 groups\n"
    )


def test_progress_off_a_terminal_is_a_line_per_tenth(monkeypatch: pytest.MonkeyPatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    show = cli_identity._progress("acme")
    for done in range(1, 101):
        show(done, 100)
    lines = log.getvalue().splitlines()
    assert lines[0] == "acme: merged 1 of 100 groups"
    assert lines[-1] == "acme: merged 100 of 100 groups"
    assert len(lines) == 11  # the first batch, then each new tenth
