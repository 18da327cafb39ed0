"""Each page of the console and each action, with its audit row naming the administrator."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select

from psc_idp import lockout
from psc_idp.audit import record
from psc_idp.directory.models import Practitioner
from psc_idp.extensions import db
from psc_idp.means.ecps.models import DeviceStatus, EcpsDevice
from psc_idp.means.fido.models import FidoCredential
from psc_idp.protocol.models import Client
from psc_idp.protocol.secrets import verify_secret
from psc_idp.timeutil import now
from tests.admin.conftest import admin_events
from tests.helpers import DOCTOR

PHARMACIST = "899700100151"


def _new_client(console, client_id: str, **fields):
    data = {
        "client_id": client_id,
        "name": "Service de test",
        "auth_method": "client_secret_basic",
        "redirect_uris": "https://sp.example/callback\nhttps://sp.example/other",
        "grant_types": ["authorization_code", "refresh_token"],
        **fields,
    }
    return console.post("/admin/clients/new", data)


def _client(app, client_id: str) -> Client:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.expunge_all()
        return client


def test_a_created_client_shows_its_secret_once(app, console, admin):
    client_id = f"sp-{uuid.uuid4().hex[:8]}"
    response = _new_client(console, client_id)
    assert response.status_code == 200
    secret = re.search(r'id="client-secret">([^<]+)<', response.get_data(as_text=True)).group(1)
    stored = _client(app, client_id)
    assert stored.redirect_uris == ["https://sp.example/callback", "https://sp.example/other"]
    with app.app_context():
        assert verify_secret(secret, stored.secret_hash)
    assert secret not in (stored.secret_hash or "")
    listing = console.get("/admin/clients").get_data(as_text=True)
    edit = console.get(f"/admin/clients/{client_id}").get_data(as_text=True)
    assert client_id in listing and secret not in listing and secret not in edit
    events = admin_events(app, "admin_client_created", actor=admin.login)
    assert [e.client_id for e in events][-1] == client_id


def test_a_public_client_has_no_secret(app, console):
    client_id = f"spa-{uuid.uuid4().hex[:8]}"
    response = _new_client(console, client_id, auth_method="none")
    assert response.status_code == 200
    assert "pas de secret" in response.get_data(as_text=True)
    assert _client(app, client_id).secret_hash is None


def test_the_registration_checks_are_the_protocols(app, console):
    client_id = f"bad-{uuid.uuid4().hex[:8]}"
    response = _new_client(console, client_id, redirect_uris="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Client refusé" in page and "redirect_uri" in page
    assert _client(app, client_id) is None
    bad_uri = _new_client(console, client_id, redirect_uris="pas-une-uri")
    assert bad_uri.status_code == 400 and _client(app, client_id) is None
    missing = console.post("/admin/clients/new", {"client_id": ""})
    assert missing.status_code == 400 and "Indiquez" in missing.get_data(as_text=True)


def test_an_existing_client_id_is_refused(app, console):
    client_id = f"dup-{uuid.uuid4().hex[:8]}"
    assert _new_client(console, client_id).status_code == 200
    again = _new_client(console, client_id)
    assert again.status_code == 400 and "existe déjà" in again.get_data(as_text=True)


def test_editing_changes_uris_grants_and_method_and_keeps_the_secret(app, console, admin):
    client_id = f"edit-{uuid.uuid4().hex[:8]}"
    _new_client(console, client_id)
    before = _client(app, client_id).secret_hash
    response = console.post(
        f"/admin/clients/{client_id}",
        {
            "name": "Renommé",
            "auth_method": "client_secret_post",
            "redirect_uris": "https://sp.example/new",
            "grant_types": ["authorization_code"],
        },
    )
    assert response.status_code == 302
    after = _client(app, client_id)
    assert after.redirect_uris == ["https://sp.example/new"]
    assert after.grant_types == ["authorization_code"]
    assert after.token_endpoint_auth_method == "client_secret_post"
    assert after.secret_hash == before and after.name == "Renommé"
    assert admin_events(app, "admin_client_updated", actor=admin.login, new_secret=False)
    refused = console.post(
        f"/admin/clients/{client_id}",
        {
            "auth_method": "client_secret_post",
            "redirect_uris": "",
            "grant_types": ["authorization_code"],
        },
    )
    assert refused.status_code == 400 and "Modification refusée" in refused.get_data(as_text=True)
    assert _client(app, client_id).redirect_uris == ["https://sp.example/new"]


def test_a_public_client_made_confidential_gets_a_secret_shown_once(app, console):
    client_id = f"pub-{uuid.uuid4().hex[:8]}"
    _new_client(console, client_id, auth_method="none")
    response = console.post(
        f"/admin/clients/{client_id}",
        {
            "auth_method": "client_secret_basic",
            "redirect_uris": "https://sp.example/callback",
            "grant_types": ["authorization_code"],
        },
    )
    assert response.status_code == 200
    secret = re.search(r'id="client-secret">([^<]+)<', response.get_data(as_text=True)).group(1)
    with app.app_context():
        assert verify_secret(secret, db.session.get(Client, client_id).secret_hash)


def test_disabling_asks_for_confirmation_then_enabling_restores(app, console, admin):
    client_id = f"dis-{uuid.uuid4().hex[:8]}"
    _new_client(console, client_id)
    asked = console.post(f"/admin/clients/{client_id}/disable")
    assert asked.status_code == 200 and "Confirmer" in asked.get_data(as_text=True)
    assert _client(app, client_id).enabled is True
    done = console.post(f"/admin/clients/{client_id}/disable", confirm=True)
    assert done.status_code == 302 and _client(app, client_id).enabled is False
    assert [e.client_id for e in admin_events(app, "admin_client_disabled", actor=admin.login)]
    console.post(f"/admin/clients/{client_id}/enable")
    assert _client(app, client_id).enabled is True
    assert admin_events(app, "admin_client_enabled", actor=admin.login)


def test_professionals_are_found_by_national_id_and_name(console):
    by_id = console.get("/admin/professionals", query_string={"q": DOCTOR})
    assert by_id.status_code == 200 and f"/admin/professionals/{DOCTOR}" in by_id.get_data(
        as_text=True
    )
    by_name = console.get("/admin/professionals", query_string={"q": "lefebvre"})
    assert PHARMACIST in by_name.get_data(as_text=True)
    none = console.get("/admin/professionals", query_string={"q": "zzzz-nobody"})
    assert "Aucun professionnel" in none.get_data(as_text=True)


def test_the_userinfo_shown_is_the_protocols_for_the_scope(app, console):
    from psc_idp.admin.professionals import userinfo_preview

    full = console.get(f"/admin/professionals/{DOCTOR}", query_string={"scope": "openid scope_all"})
    page = full.get_data(as_text=True)
    assert full.status_code == 200 and "SubjectRefPro" in page
    with app.app_context():
        expected = userinfo_preview(DOCTOR, "openid scope_all", "CARD")
    assert expected["SubjectRefPro"] and expected["sub"].endswith(DOCTOR)
    basic = console.get(f"/admin/professionals/{DOCTOR}", query_string={"scope": "openid"})
    assert "SubjectRefPro" not in basic.get_data(as_text=True)
    unknown = console.get(f"/admin/professionals/{DOCTOR}", query_string={"scope": "nope"})
    assert unknown.status_code == 400 and "Scope inconnu" in unknown.get_data(as_text=True)
    bad_mode = console.get(f"/admin/professionals/{DOCTOR}", query_string={"auth_mode": "X"})
    assert bad_mode.status_code == 400
    missing = console.get("/admin/professionals/899700000000")
    assert missing.status_code == 404


def _active(app, national_id: str) -> bool:
    with app.app_context():
        value = db.session.scalar(
            select(Practitioner.active).where(Practitioner.national_id == national_id)
        )
        db.session.remove()
        return value


def test_deactivating_a_professional_is_confirmed_audited_and_undone(app, console, admin):
    target = "899700100565"
    asked = console.post(f"/admin/professionals/{target}/deactivate")
    assert asked.status_code == 200 and _active(app, target)
    console.post(f"/admin/professionals/{target}/deactivate", confirm=True)
    assert _active(app, target) is False
    rows = admin_events(app, "admin_professional_deactivated", actor=admin.login)
    assert rows[-1].national_id == target
    console.post(f"/admin/professionals/{target}/reactivate")
    assert _active(app, target) is True
    assert admin_events(app, "admin_professional_reactivated", actor=admin.login)


def test_unlocking_a_professional_lifts_the_login_lockout(app, console, admin):
    target = "899700100649"
    with app.app_context():
        db.session.merge(
            lockout.Lockout(
                kind=lockout.PROFESSIONAL,
                subject=target,
                failures=5,
                lockouts=1,
                last_failure_at=now(),
                locked_until=now() + timedelta(minutes=5),
                permanent=False,
                last_source="pin",
            )
        )
        db.session.commit()
    page = console.get(f"/admin/professionals/{target}").get_data(as_text=True)
    assert "connexion verrouillée" in page
    console.post(f"/admin/professionals/{target}/unlock")
    with app.app_context():
        assert lockout.state(lockout.PROFESSIONAL, target) is None
        db.session.remove()
    assert admin_events(app, "admin_professional_unlocked", actor=admin.login, lifted=1)


def _device(app, status: str) -> str:
    device_id = uuid.uuid4().hex
    with app.app_context():
        db.session.add(
            EcpsDevice(
                id=device_id,
                national_id="899700100318",
                name="Téléphone de test",
                activation_mode="cli",
                public_jwk={},
                pin_hash="x",
                pin_failures=3,
                status=status,
                locked_at=now() if status == DeviceStatus.LOCKED else None,
            )
        )
        db.session.commit()
    return device_id


def _device_row(app, device_id: str) -> EcpsDevice:
    with app.app_context():
        device = db.session.get(EcpsDevice, device_id)
        db.session.expunge_all()
        return device


def test_a_locked_device_is_unlocked_and_a_device_revoked(app, console, admin):
    locked = _device(app, DeviceStatus.LOCKED)
    page = console.get("/admin/professionals/899700100318").get_data(as_text=True)
    assert "verrouillée (PIN)" in page
    console.post(f"/admin/devices/{locked}/unlock")
    row = _device_row(app, locked)
    assert row.status == DeviceStatus.ACTIVE and row.pin_failures == 0
    with app.app_context():
        from psc_idp.means.ecps import pushes

        assert pushes.reach("899700100318") == pushes.Reach.REACHABLE  # pushes reach it again
        db.session.remove()
    assert admin_events(app, "admin_device_unlocked", actor=admin.login)
    asked = console.post(f"/admin/devices/{locked}/revoke")
    assert asked.status_code == 200 and _device_row(app, locked).status == DeviceStatus.ACTIVE
    console.post(f"/admin/devices/{locked}/revoke", confirm=True)
    assert _device_row(app, locked).status == DeviceStatus.REVOKED
    assert admin_events(app, "admin_device_revoked", actor=admin.login)
    assert console.post("/admin/devices/nope/unlock").status_code == 404


def test_a_fido_key_is_revoked(app, console, admin):
    key_id = uuid.uuid4().hex
    with app.app_context():
        db.session.add(
            FidoCredential(
                id=key_id,
                national_id="899700100318",
                credential_id=key_id,
                credential_data=b"x",
                aaguid="0" * 36,
                name="Clé de test",
            )
        )
        db.session.commit()
    page = console.get("/admin/professionals/899700100318").get_data(as_text=True)
    assert "Révoquer la clé Clé de test" in page
    console.post(f"/admin/fido/{key_id}/revoke", confirm=True)
    with app.app_context():
        assert db.session.get(FidoCredential, key_id).revoked_at is not None
        db.session.remove()
    assert admin_events(app, "admin_key_revoked", actor=admin.login)


def test_keys_are_listed_and_rotated(app, console, admin):
    signing = app.extensions["psc_signing_keys"]
    before = signing.active("ES256").kid
    listing = console.get("/admin/keys").get_data(as_text=True)
    assert before in listing
    asked = console.post("/admin/keys/rotate", {"alg": "ES256"})
    assert asked.status_code == 200 and signing.active("ES256").kid == before
    done = console.post("/admin/keys/rotate", {"alg": "ES256"}, confirm=True)
    assert done.status_code == 302
    after = signing.active("ES256").kid
    assert after != before
    page = console.get("/admin/keys").get_data(as_text=True)
    assert after in page and before in page  # the retired key stays published
    rows = admin_events(app, "admin_keys_rotated", actor=admin.login)
    assert rows[-1].detail["kids"] == [after]


def test_the_audit_trail_filters_and_pages(app, console, admin):
    marker = f"cl-{uuid.uuid4().hex[:8]}"
    with app.test_request_context():
        for _ in range(55):
            record("token_issued", PHARMACIST, client_id=marker, outcome="success")
        record("logout", DOCTOR, client_id=marker)
        db.session.commit()
    first = console.get("/admin/audit", query_string={"client_id": marker})
    page = first.get_data(as_text=True)
    assert "56 événement(s)" in page and "page 1 sur 2" in page and "Page suivante" in page
    assert "Accès accordé à un service" in page  # the events' French labels
    second = console.get("/admin/audit", query_string={"client_id": marker, "page": "2"})
    assert second.get_data(as_text=True).count(f">{marker}<") == 6
    kind = console.get("/admin/audit", query_string={"client_id": marker, "event": "logout"})
    assert "1 événement(s)" in kind.get_data(as_text=True)
    person = console.get("/admin/audit", query_string={"client_id": marker, "national_id": DOCTOR})
    assert "1 événement(s)" in person.get_data(as_text=True)
    dated = console.get(
        "/admin/audit",
        query_string={"client_id": marker, "since": "2000-01-01", "until": "2000-01-02"},
    )
    assert "0 événement(s)" in dated.get_data(as_text=True)
    bad = console.get("/admin/audit", query_string={"since": "hier"})
    assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.get_data(as_text=True)
    odd_page = console.get("/admin/audit", query_string={"page": "abc"})
    assert odd_page.status_code == 200


def test_the_audit_trail_filters_by_paris_day(app, console):
    from zoneinfo import ZoneInfo

    marker = f"day-{uuid.uuid4().hex[:8]}"
    with app.test_request_context():
        record("token_issued", PHARMACIST, client_id=marker, outcome="success")
        db.session.commit()
    today = now().astimezone(ZoneInfo("Europe/Paris")).date()
    query = {"client_id": marker, "since": today.isoformat(), "until": today.isoformat()}
    assert "1 événement(s)" in console.get("/admin/audit", query_string=query).get_data(
        as_text=True
    )
    yesterday = (today - timedelta(days=1)).isoformat()
    before = {"client_id": marker, "until": yesterday}
    assert "0 événement(s)" in console.get("/admin/audit", query_string=before).get_data(
        as_text=True
    )


def test_odd_client_input_is_a_form_error_never_a_500(app, console):
    odd = [
        {"client_id": "x" * 300},
        {"client_id": f"m-{uuid.uuid4().hex[:6]}", "auth_method": "bogus"},
        {"client_id": f"g-{uuid.uuid4().hex[:6]}", "grant_types": ["password"]},
        {"client_id": f"j-{uuid.uuid4().hex[:6]}", "auth_method": "private_key_jwt"},
    ]
    for fields in odd:
        response = _new_client(console, **fields)
        assert response.status_code == 400, fields
        assert "Client refusé" in response.get_data(as_text=True)
    assert console.post("/admin/clients/nobody/disable").status_code == 404
