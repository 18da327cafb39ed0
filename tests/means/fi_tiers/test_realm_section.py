"""``identity_providers:`` in the realm file: checked at import, in French, with its place."""

from __future__ import annotations

import pytest

from psc_idp.realm.loader import RealmInvalid, read_realm_file

BAD = """\
identity_providers:
  - alias: FI_750712184
    issuer: sso.chu.example
    client_id: psc
    scopes: [profile]
    allowed_tenants: [chu]
    accepted_amr:
      - {amr: [], acr: eidas2}
      - {amr: [pwd, mfa]}
    auth_mode: "FI TIERS"
    pairing: {means: [MOBILE, SMS], lifetime: 10}
    user_id_clam: oid
  - alias: FI_750712184
    issuer: https://other.example
    client_id: psc
"""

GOOD = """\
identity_providers:
  - alias: ENTRA_contoso
    name: Hôpital Contoso
    issuer: https://login.microsoftonline.com/0000-tenant/v2.0
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret: secret
    token_endpoint_auth_method: client_secret_post
    scopes: [openid, profile]
    user_id_claim: oid
    tenant_claim: tid
    allowed_tenants: [0000-tenant]
    accepted_amr:
      - {amr: [pwd, mfa], acr: eidas2}
    auth_mode: ENTRA_contoso
    pairing: {means: [MOBILE, CARD], lifetime: 31536000}
"""


def _problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "realm.yaml"
    path.write_text(text)
    with pytest.raises(RealmInvalid) as caught:
        read_realm_file(path)
    return caught.value.problems.lines()


def test_every_problem_of_a_provider_is_said_with_its_place(tmp_path):
    lines = "\n".join(_problems(tmp_path, BAD))
    expected = [
        "identity_providers[0].issuer (ligne 3) : une adresse https://",
        "identity_providers[0].scopes (ligne 5) : doit contenir « openid »",
        "identity_providers[0].tenant_claim",
        "identity_providers[0].accepted_amr[0].amr (ligne 8) : au moins une méthode",
        "identity_providers[0].accepted_amr[1].acr",
        "identity_providers[0].auth_mode (ligne 10)",
        "identity_providers[0].pairing.means[1]",
        "identity_providers[0].pairing.lifetime",
        "identity_providers[0].user_id_clam (ligne 12) : clé inconnue",
        "identity_providers[1].alias (ligne 13) : « FI_750712184 » déjà défini",
        "identity_providers[1].accepted_amr",
    ]
    missing = [line for line in expected if line not in lines]
    assert missing == [], lines


def test_an_entra_id_example_passes(tmp_path):
    path = tmp_path / "realm.yaml"
    path.write_text(GOOD)
    entry = read_realm_file(path)["identity_providers"][0]
    assert (entry["alias"], entry["pairing"]["means"]) == ("ENTRA_contoso", ["MOBILE", "CARD"])


def test_the_client_secret_is_sealed_at_rest_and_in_the_export(app):
    import json

    from sqlalchemy import delete

    from psc_idp.extensions import db
    from psc_idp.means.fi_tiers.models import FiIdentityProvider
    from psc_idp.means.fi_tiers.providers import find_provider
    from psc_idp.realm.loader import RealmInvalid, export_realm, import_realm

    entry = {
        "alias": "FI_SEALED",
        "issuer": "https://sso.chu.example",
        "client_id": "psc",
        "client_secret": "upstream-secret-in-clear",
        "accepted_amr": [{"amr": ["pwd", "mfa"], "acr": "eidas2"}],
    }
    with app.app_context():
        try:
            assert import_realm({"identity_providers": [entry]}).identity_providers_changed == 1
            db.session.commit()
            row = db.session.get(FiIdentityProvider, "FI_SEALED")
            assert "upstream-secret-in-clear" not in json.dumps(row.config)
            assert find_provider("FI_SEALED").client_secret == "upstream-secret-in-clear"
            exported = export_realm(app.extensions["psc_settings"])["identity_providers"]
            assert "upstream-secret-in-clear" not in json.dumps(exported)
            (again,) = [p for p in exported if p["alias"] == "FI_SEALED"]
            assert "client_secret" not in again and again["client_secret_sealed"].startswith("s1.")
            # The export imports back on this deployment, unchanged; the same secret in clear
            # is no change either.
            assert import_realm({"identity_providers": [again]}).identity_providers_changed == 0
            assert import_realm({"identity_providers": [entry]}).identity_providers_changed == 0
            assert find_provider("FI_SEALED").client_secret == "upstream-secret-in-clear"
            # Moved onto another alias, or altered, it does not open: refused at import.
            for bad in ({**again, "alias": "FI_OTHER"}, {**again, "client_secret_sealed": "s1.x"}):
                with pytest.raises(RealmInvalid) as caught:
                    import_realm({"identity_providers": [bad]})
                assert "ne s'ouvre pas" in "\n".join(caught.value.problems.lines())
            # A stored secret that does not open (altered, or keys/ replaced): none, no 500; the
            # realm file's secret in clear replaces it.
            row = db.session.get(FiIdentityProvider, "FI_SEALED")
            row.config = {**row.config, "client_secret_sealed": again["client_secret_sealed"][:-4]}
            db.session.commit()
            assert find_provider("FI_SEALED").client_secret == ""
            assert import_realm({"identity_providers": [entry]}).identity_providers_changed == 1
            assert find_provider("FI_SEALED").client_secret == "upstream-secret-in-clear"
        finally:
            db.session.rollback()
            db.session.execute(delete(FiIdentityProvider))
            db.session.commit()
