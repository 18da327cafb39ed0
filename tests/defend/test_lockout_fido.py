"""A professional's lockout on la mire with a FIDO key: a failed assertion counts, a locked
professional's good assertion gets the answer of a bad signature, and typing their national id
shows the French page that says the account is locked."""

from __future__ import annotations

import pytest

from psc_idp import lockout
from psc_idp.extensions import db
from tests.means.fido.test_enrolment import assert_refused, enrolled_key
from tests.means.fido.test_login import FidoLogin, claims_of

PROFESSIONAL = "899700427885"  # Dr Kit DOC0042788 (a key of his own here)


@pytest.fixture(scope="module")
def key(defended):
    return enrolled_key(defended, PROFESSIONAL)


def _failures(app) -> int | None:
    with app.app_context():
        found = lockout.state(lockout.PROFESSIONAL, PROFESSIONAL)
        return None if found is None else found.failures


def _unlock(app) -> None:
    with app.app_context():
        lockout.unlock(lockout.PROFESSIONAL, PROFESSIONAL)
        db.session.commit()


def test_a_failed_assertion_counts_and_a_login_clears_the_count(defended, clients, key, clock):
    _unlock(defended)
    login = FidoLogin(defended, clients.web)
    options, ceremony = login.open(PROFESSIONAL)
    assert_refused(login.answer(key.get(options, user_verified=False), ceremony), "obligatoire")
    assert _failures(defended) == 1
    clock.advance(2)  # past the quick-login check
    options, ceremony = login.open(PROFESSIONAL)
    tokens = login.tokens(login.answer(key.get(options), ceremony))
    assert claims_of(tokens)[:2] == (PROFESSIONAL, "FIDO")
    assert _failures(defended) is None


def test_a_locked_professional_s_key_is_answered_as_a_bad_signature(defended, clients, key):
    _unlock(defended)
    with defended.app_context():
        for _ in range(5):
            lockout.fail(lockout.PROFESSIONAL, PROFESSIONAL, "test")
    try:
        login = FidoLogin(defended, clients.web)
        options, ceremony = login.open(PROFESSIONAL)
        refused = login.answer(key.get(options), ceremony)
        assert_refused(refused, "La signature de la clé est invalide")
        assert _failures(defended) == 6

        typed = FidoLogin(defended, clients.web).identify(PROFESSIONAL)
        assert typed.status_code == 400
        assert "temporairement verrouillé" in typed.get_data(as_text=True)
    finally:
        _unlock(defended)
