"""Certificates from other authorities trusted by configuration (e.g. the real IGC-Santé test
roots): revocation comes from the CRL at their distribution point, fetched with a timeout and
cached in the database; fail closed unless configured to fail open."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from psc_idp.config import Settings
from psc_idp.extensions import db
from psc_idp.pki import CertificateRejected, verify_client_certificate
from psc_idp.pki.models import PkiCrlCache
from tests.pki.helpers import DOCTOR, ForeignCa, closed_port_url, crl_server


@pytest.fixture
def foreign(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ForeignCa:
    """A foreign CA listed in pki_extra_trust_anchors."""
    ca = ForeignCa()
    monkeypatch.setattr(
        settings, "pki_extra_trust_anchors", [ca.write_root(tmp_path)], raising=False
    )
    monkeypatch.setattr(settings, "pki_crl_fetch_timeout", 2, raising=False)
    return ca


def _reason(cert) -> str:
    with pytest.raises(CertificateRejected) as caught:
        verify_client_certificate(cert)
    return caught.value.reason


def test_unreachable_crl_fails_closed(ctx: Flask, foreign: ForeignCa) -> None:
    assert _reason(foreign.card(DOCTOR, crl_url=closed_port_url())) == "crl_unavailable"


def test_no_distribution_point_fails_closed(ctx: Flask, foreign: ForeignCa) -> None:
    assert _reason(foreign.card(DOCTOR)) == "crl_unavailable"


def test_unreachable_crl_fails_open_when_configured(
    ctx: Flask, foreign: ForeignCa, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "pki_crl_fail_open", True, raising=False)
    verified = verify_client_certificate(foreign.card(DOCTOR, crl_url=closed_port_url()))
    assert verified.national_id == DOCTOR and not verified.from_test_pki


def test_foreign_crl_is_fetched_then_cached(ctx: Flask, foreign: ForeignCa) -> None:
    with crl_server() as server:
        server.bodies["/ok.crl"] = foreign.crl()
        url = f"{server.base}/ok.crl"
        card = foreign.card(DOCTOR, crl_url=url)
        assert verify_client_certificate(card).national_id == DOCTOR
        assert server.hits == ["/ok.crl"]
    db.session.rollback()  # a new transaction sees the cache written on its own connection
    cached = db.session.get(PkiCrlCache, url)
    assert cached is not None and cached.next_update > cached.this_update
    # The distribution point is gone: the cached CRL still answers until its nextUpdate.
    assert verify_client_certificate(card).national_id == DOCTOR


def test_foreign_revoked_card(ctx: Flask, foreign: ForeignCa) -> None:
    with crl_server() as server:
        card = foreign.card(DOCTOR, crl_url=f"{server.base}/revoked.crl")
        server.bodies["/revoked.crl"] = foreign.crl([card.serial_number])
        assert _reason(card) == "revoked"


def test_crl_signed_by_someone_else_is_unavailable(ctx: Flask, foreign: ForeignCa) -> None:
    impostor = ForeignCa()
    with crl_server() as server:
        server.bodies["/forged.crl"] = foreign.crl(signer=impostor.key)
        assert _reason(foreign.card(DOCTOR, crl_url=f"{server.base}/forged.crl")) == (
            "crl_unavailable"
        )
        # A missing CRL (HTTP 404) is just as unavailable.
        assert _reason(foreign.card(DOCTOR, crl_url=f"{server.base}/absent.crl")) == (
            "crl_unavailable"
        )
