"""Realm options from the realm file, kept in the database so every instance reads the same."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from psc_idp.extensions import db


class RealmOption(db.Model):
    __tablename__ = "realm_option"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
