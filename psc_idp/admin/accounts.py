"""Administrators: passwords (scrypt), TOTP secrets (RFC 6238 with pyotp, sealed with the app
secret), and the used-step check that makes a code good once."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from psc_idp.admin.models import AdminAccount, AdminSession, AdminTotpStep
from psc_idp.extensions import db
from psc_idp.scrypt_hash import scrypt_hash, scrypt_verify
from psc_idp.timeutil import now

#: scrypt cost: ~100 ms a check; a password (unlike a client secret) may be guessable.
N, R, P = 2**15, 8, 1
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
#: Seal purpose: a TOTP secret opens for this use only.
TOTP_PURPOSE = "admin-totp"
ISSUER = "psc-idp admin"
#: Steps either side of now that are accepted (a phone's clock a little off).
VALID_WINDOW = 1
CODE = re.compile(r"^\d{6}$")


class AccountError(ValueError):
    """A refused administrator description, in French."""


@dataclass(frozen=True)
class NewAccount:
    account: AdminAccount
    otpauth_uri: str


def hash_password(password: str) -> str:
    return scrypt_hash(password, N, R, P)


def verify_password(password: str, stored: str) -> bool:
    return scrypt_verify(password, stored)


#: Checked against when the login is unknown, so that timing does not tell logins apart.
_DUMMY_HASH: list[str] = []


def dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Le mot de passe doit comporter au moins {MIN_PASSWORD} caractères.")
    if len(password) > MAX_PASSWORD:
        raise AccountError("Le mot de passe est trop long.")


def _seal(secret: str) -> str:
    return current_app.extensions["psc_app_secret"].seal(secret, TOTP_PURPOSE)


def totp_of(account: AdminAccount) -> pyotp.TOTP:
    secret = current_app.extensions["psc_app_secret"].unseal(account.totp_sealed, TOTP_PURPOSE)
    return pyotp.TOTP(secret)


def otpauth_uri(account: AdminAccount) -> str:
    return totp_of(account).provisioning_uri(name=account.login, issuer_name=ISSUER)


def find(login: str) -> AdminAccount | None:
    if not isinstance(login, str) or not LOGIN.match(login):
        return None
    return db.session.get(AdminAccount, login)


def by_national_id(national_id: str) -> AdminAccount | None:
    return db.session.scalars(
        select(AdminAccount).where(AdminAccount.national_id == national_id)
    ).first()


def all_accounts() -> list[AdminAccount]:
    return list(db.session.scalars(select(AdminAccount).order_by(AdminAccount.login)))


def create(login: str, password: str, national_id: str | None = None) -> NewAccount:
    """A new administrator (the caller commits); its otpauth:// URI, shown once."""
    if not LOGIN.match(login or ""):
        raise AccountError(
            "Identifiant invalide : 2 à 64 caractères parmi a-z, 0-9, « . », « _ », « - »."
        )
    if db.session.get(AdminAccount, login) is not None:
        raise AccountError(f"L'administrateur « {login} » existe déjà.")
    check_password_rules(password)
    if national_id and by_national_id(national_id) is not None:
        raise AccountError(
            f"L'identifiant national {national_id} est déjà celui d'un administrateur."
        )
    account = AdminAccount(
        login=login,
        password_hash=hash_password(password),
        totp_sealed=_seal(pyotp.random_base32()),
        national_id=national_id or None,
    )
    db.session.add(account)
    return NewAccount(account, otpauth_uri(account))


def reset_totp(account: AdminAccount) -> str:
    """A new TOTP secret; its URI (the caller commits). Open sessions end: the old second
    factor no longer vouches for them."""
    account.totp_sealed = _seal(pyotp.random_base32())
    end_sessions(account.login)
    return otpauth_uri(account)


def remove(account: AdminAccount) -> None:
    end_sessions(account.login)
    db.session.query(AdminTotpStep).filter_by(login=account.login).delete()
    db.session.delete(account)


def end_sessions(login: str) -> None:
    moment = now()
    for session in db.session.scalars(
        select(AdminSession).where(AdminSession.login == login, AdminSession.ended_at.is_(None))
    ):
        session.ended_at = moment


def matching_step(account: AdminAccount, code: str) -> int | None:
    """The time step whose code ``code`` is, within the window; None if none."""
    if not isinstance(code, str) or not CODE.match(code.strip()):
        return None
    code = code.strip()
    totp = totp_of(account)
    current = totp.timecode(now())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def use_step(login: str, step: int) -> bool:
    """Mark ``step`` used for ``login``, committed at once; False if it was used already.
    The primary key decides between concurrent logins, on SQLite and PostgreSQL alike."""
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(AdminTotpStep).values(login=login, step=step, used_at=now()))
    except IntegrityError:
        return False
    return True


def check_totp(account: AdminAccount, code: str) -> bool:
    """A valid code, never accepted before (RFC 6238 §5.2: one use per step)."""
    step = matching_step(account, code)
    return step is not None and use_step(account.login, step)
