"""Shared fixtures of the spaces tests: the catalog, built once per session."""

import pytest

from ssmtune import spaces


@pytest.fixture(scope="session")
def catalog() -> dict[str, spaces.Space]:
    return {name: spaces.get(name) for name in spaces.names()}
