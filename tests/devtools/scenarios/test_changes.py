"""What the protocol applies of a scenario's changes to a token's or UserInfo's claims."""

from __future__ import annotations

from psc_idp.protocol.changes import Changes, expire


def test_apply_keeps_the_order_and_changes_only_what_is_there():
    claims = {"exp": 2, "iat": 1, "acr": "eidas1", "authMode": "CARD", "sub": "s"}
    changed = Changes(drop=("sub", "absent"), rename=(("authMode", "auth_mode"),), acr="eidas3")
    assert list(changed.apply(claims).items()) == [
        ("exp", 2),
        ("iat", 1),
        ("acr", "eidas3"),
        ("auth_mode", "CARD"),
    ]
    assert claims["sub"] == "s"  # the caller's claims are left as they were
    assert "acr" not in Changes(acr="eidas3").apply({"sub": "s"})  # no acr: none added
    alone = {"sub": "s"}
    assert Changes(drop=("sub",)).apply(alone) == {} and alone == {"sub": "s"}


def test_expire_keeps_the_lifetime():
    expired = expire({"iat": 1_000_000, "exp": 1_000_120, "jti": "j"})
    assert expired["exp"] - expired["iat"] == 120 and expired["exp"] < 1_000_000
