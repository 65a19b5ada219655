"""Fixtures of the integration tests (moto)."""

from __future__ import annotations

import pytest

from tests.integration.test_send_support import SendWorld, make_world


@pytest.fixture
def world(table: str) -> SendWorld:
    """The send path's world: the real API app, send queue, SES and handlers on moto (a module
    with a world of its own, like the read API's seeded table, defines its own fixture)."""
    return make_world()
