"""The whole server (not the bare directory app of the parent folder): imported professionals
log in."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture(scope="session")
def app(make_app) -> Flask:
    return make_app()
