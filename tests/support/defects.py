"""Open defects that tests are marked with (``xfail``, not strict), worded once."""

from __future__ import annotations

import pytest

DEV_SERVER_SIGINT = pytest.mark.xfail(
    strict=False,
    reason="open defect: in two fresh-clone `.ci/run`s of 2026-12-02 the dev server was still "
    "running 60 s after SIGINT (once in the parallel part, once after it); not reproduced "
    "alone (10 of 10 runs passed); cause not found",
)
