"""Secrets read from files (``PSC_X_FILE``): systemd credentials, Docker secrets."""

from __future__ import annotations

import pytest

from psc_idp.config import Settings, UnreadableSettingFile


def test_a_secret_from_its_file(tmp_path, monkeypatch):
    token = tmp_path / "metrics-token"
    token.write_text("from-a-file\n")
    monkeypatch.delenv("PSC_METRICS_TOKEN", raising=False)
    monkeypatch.setenv("PSC_METRICS_TOKEN_FILE", str(token))
    assert Settings.from_env().metrics_token == "from-a-file"
    monkeypatch.setenv("PSC_METRICS_TOKEN", "from-the-environment")
    assert Settings.from_env().metrics_token == "from-the-environment"


def test_the_realm_file_stays_a_path(tmp_path, monkeypatch):
    realm = tmp_path / "realm.yaml"
    realm.write_text("clients: []\n")
    monkeypatch.delenv("PSC_REALM", raising=False)
    monkeypatch.setenv("PSC_REALM_FILE", str(realm))
    settings = Settings.from_env()
    assert (settings.realm, settings.realm_file) == ("esante-wallet", str(realm))


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("PSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("PSC_DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(UnreadableSettingFile, match="PSC_DATABASE_URL_FILE"):
        Settings.from_env()
