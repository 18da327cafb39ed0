"""The debugger's pieces without a server: masking, the signature check, the claims'
meanings, development mode only, the demo client following the base URL."""

from __future__ import annotations

import base64
import json

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from psc_idp import create_app
from psc_idp.devtools.debugger import exchanges, store, tokens
from psc_idp.devtools.debugger.explain import explain_claims
from psc_idp.extensions import db


def _key_and_jwks(kid: str = "k1"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")
    return key, {"keys": [jwk]}


def test_signature_valid_then_tampered_invalid():
    key, jwks = _key_and_jwks()
    token = jwt.encode({"sub": "a", "acr": "eidas1"}, key, "RS256", headers={"kid": "k1"})
    view = tokens.inspect("id_token", token, jwks)
    assert view["signature"] == {"kid": "k1", "alg": "RS256", "valid": True, "reason": ""}
    header, payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"sub":"b","acr":"eidas3"}').decode().rstrip("=")
    bad = tokens.inspect("id_token", f"{header}.{forged}.{signature}", jwks)
    assert bad["signature"]["valid"] is False
    assert bad["signature"]["reason"].startswith("signature invalide")
    assert '"acr": "eidas3"' in bad["claims"]


def test_unknown_kid_other_key_and_unsigned_are_invalid():
    key, jwks = _key_and_jwks("k1")
    other, _ = _key_and_jwks("k2")
    unknown = jwt.encode({"sub": "a"}, other, "RS256", headers={"kid": "k2"})
    assert "aucune clé « k2 »" in tokens.inspect("t", unknown, jwks)["signature"]["reason"]
    wrong_key = jwt.encode({"sub": "a"}, other, "RS256", headers={"kid": "k1"})
    assert tokens.inspect("t", wrong_key, jwks)["signature"]["valid"] is False
    hs = jwt.encode({"sub": "a"}, "x" * 64, "HS512", headers={"kid": "k1"})
    opaque = tokens.inspect("t", hs, jwks)["signature"]
    assert opaque["valid"] is None and "seul psc-idp vérifie" in opaque["reason"]
    unsigned = jwt.encode({"sub": "a"}, None, "none")
    assert tokens.inspect("t", unsigned, jwks)["signature"]["valid"] is False
    assert tokens.inspect("t", "not.a.jwt", jwks)["problem"].startswith("Pas un JWT")
    assert "JWE" in tokens.inspect("t", "a.b.c.d.e", jwks)["problem"]


def test_secrets_are_masked_in_headers_and_forms():
    basic = "Basic " + base64.b64encode(b"demo-web:s3cr3t").decode()
    shown = exchanges.masked_headers(
        {"Authorization": basic, "Cookie": "a=b", "Accept": "application/json"}
    )
    assert shown["Authorization"] == "Basic •••••• (client_id « demo-web » : secret masqué)"
    assert "s3cr3t" not in json.dumps(shown)
    assert shown["Cookie"] == exchanges.MASK and shown["Accept"] == "application/json"
    bearer = exchanges.mask_authorization("Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature")
    assert bearer == "Bearer eyJhbGciOiJS••••••"
    form = exchanges.masked_form({"client_secret": "s3cr3t", "code": "c", "client_id": "x"})
    assert form == {"client_secret": exchanges.MASK, "code": "c", "client_id": "x"}


def test_psc_claims_are_explained_in_french():
    rows = {r["name"]: r for r in explain_claims({"authMode": "CARD", "acr": "eidas3", "x": 1})}
    assert set(rows) == {"authMode", "acr"}
    assert rows["authMode"]["detail"] == "carte CPS (ou CPE) lue par le poste du professionnel"
    assert rows["acr"]["detail"] == "niveau eIDAS élevé (carte CPS)"


def _app(tmp_path, dev_mode: bool, **more):
    return create_app(
        {
            "dev_mode": dev_mode,
            "keys_dir": str(tmp_path / "keys"),
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **more,
        }
    )


def test_not_found_outside_development_mode(tmp_path):
    client = _app(tmp_path, dev_mode=False).test_client()
    for path in ("/dev/debugger/", "/dev/debugger/callback?state=x", "/dev/debugger/runs/x"):
        assert client.get(path).status_code == 404
    assert client.post("/dev/debugger/start").status_code == 404


def test_the_debugger_client_follows_the_base_url(tmp_path):
    from psc_idp.protocol.models import Client

    app = _app(tmp_path, dev_mode=True, base_url="http://127.0.0.1:38080")
    with app.app_context():
        client = app.extensions["sqlalchemy"].session.get(Client, "demo-debugger")
        assert client.redirect_uris == ["http://127.0.0.1:38080/dev/debugger/callback"]
        assert client.post_logout_redirect_uris == [
            "http://127.0.0.1:38080/dev/debugger/logged-out"
        ]
        assert client.allow_plain_pkce is True
        demo_web = app.extensions["sqlalchemy"].session.get(Client, "demo-web")
        assert "http://localhost:3000/callback" in demo_web.redirect_uris


def test_the_form_labels_every_control_and_loads_nothing_inline(tmp_path):
    from tests.wallet.test_templates_render import parse

    client = _app(tmp_path, dev_mode=True).test_client()
    response = client.get("/dev/debugger/")
    page = parse(response.get_data(as_text=True))
    labels = {a.get("for") for a in page.find("label")}
    controls = [a for t, a in page.elements if t in ("input", "select", "textarea")]
    visible = [a for a in controls if a.get("type") != "hidden"]
    assert len(visible) > 30  # 8 flows, 20 scopes, the fields
    assert [a for a in visible if a.get("id") not in labels] == []
    ids = [a["id"] for _, a in page.elements if "id" in a]
    assert len(ids) == len(set(ids))
    assert not [a for t, a in page.elements if t == "script" and not a.get("src")]
    assert page.find("fieldset") and page.find("legend")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Set-Cookie"].startswith("psc_debugger=")
    assert "HttpOnly" in response.headers["Set-Cookie"]


def test_make_run_prints_where_the_debugger_is(tmp_path):
    from psc_idp.cli.serve import summary

    app = _app(tmp_path, dev_mode=True, base_url="http://localhost:38080")
    with app.app_context():
        printed = "\n".join(summary())
    assert "  débogueur   http://localhost:38080/dev/debugger/" in printed
    assert "redirect http://localhost:38080/dev/debugger/callback" in printed


def test_a_run_is_sealed_at_rest_and_opens_only_under_its_secret(app):
    """The exchanges hold the tokens the flow obtained: the row holds none in clear; the run
    reads back whole; altered, it is as if gone."""
    token = "eyJhbGciOiJSUzI1NiJ9.secret-access-token-value.signature"
    with app.test_request_context("/dev/debugger/", headers={"Cookie": "psc_debugger=" + "b" * 24}):
        run = store.new_run("code", {"client_id": "demo-debugger", "state": "st-1"}, "st-1")
        store.update(
            run, {"response": {"body": {"access_token": token}}}, tokens={"access_token": token}
        )
        db.session.commit()
        raw = db.session.execute(
            text("SELECT data FROM debugger_run WHERE id = :id"), {"id": run.id}
        ).scalar_one()
        assert token not in str(raw) and "demo-debugger" not in str(raw)
        db.session.expunge_all()
        opened = store.load_run(run.id)
        assert opened is not None and opened.data["tokens"] == {"access_token": token}
        assert opened.data["exchanges"] == [{"response": {"body": {"access_token": token}}}]
        assert store.run_by_state("st-1").id == run.id
        assert [r.id for r in store.recent_runs()] == [run.id]
        # Altered at rest (or sealed under an app secret since replaced): as if gone, no error.
        sealed = opened.sealed_data["sealed"]
        middle = len(sealed) // 2  # a whole sextet of the ciphertext, not padding bits
        flipped = "A" if sealed[middle] != "A" else "B"
        opened.sealed_data = {"sealed": sealed[:middle] + flipped + sealed[middle + 1 :]}
        db.session.commit()
        db.session.expunge_all()
        assert store.load_run(run.id) is None
        assert store.run_by_state("st-1") is None and store.recent_runs() == []
