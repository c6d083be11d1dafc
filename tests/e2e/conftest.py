"""One real Prefect API (a temporary local server on 127.0.0.1) for the whole session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
