"""Signing keys: what the JWKS publishes (kid, alg, created, retired), and rotation through
``SigningKeys.rotate``, as ``psc-idp keys rotate``."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from psc_idp.admin.blueprint import audited, bp, confirmed, page
from psc_idp.extensions import db
from psc_idp.keystore.signing import SUPPORTED_ALGS, SigningKeys


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _signing() -> SigningKeys:
    return current_app.extensions["psc_signing_keys"]


@bp.get("/keys")
def keys() -> ResponseReturnValue:
    signing = _signing()
    published = {key["kid"] for key in signing.jwks()["keys"]}
    rows = [
        {
            "kid": key.kid,
            "alg": key.alg,
            "created_at": _when(key.created_at),
            "retired_at": _when(key.retired_at),
            "published": key.kid in published,
        }
        for key in signing.every_key()
    ]
    return page("keys.html", keys=rows, algs=SUPPORTED_ALGS)


@bp.post("/keys/rotate")
def rotate_keys() -> ResponseReturnValue:
    chosen = [alg for alg in request.form.getlist("alg") if alg in SUPPORTED_ALGS]
    algs = tuple(chosen) or SUPPORTED_ALGS
    asked = confirmed(
        f"Publier de nouvelles clés de signature ({', '.join(algs)}) ? Les anciennes restent "
        "publiées jusqu'à l'expiration des jetons qu'elles ont signés.",
        url_for("admin.keys"),
    )
    if asked is not None:
        return asked
    created = _signing().rotate(algs)
    audited("admin_keys_rotated", kids=[key.kid for key in created], algs=list(algs))
    db.session.commit()
    return redirect(url_for("admin.keys"))
