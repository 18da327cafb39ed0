"""The events the login and protocol layers record, with their French labels (the means
declare theirs in ``Authenticator.audit_events``)."""

from __future__ import annotations

LOGIN_SUCCEEDED = "login_succeeded"
LOGIN_FAILED = "login_failed"
LOGIN_REFUSED = "login_refused"
LOGIN_ABANDONED = "login_abandoned"
CIBA_REQUESTED = "ciba_requested"
TOKEN_ISSUED = "token_issued"
TOKEN_REFRESHED = "token_refreshed"
TOKEN_REVOKED = "token_revoked"
LOGOUT = "logout"
#: A development error scenario changed an answer (``psc_idp.devtools.scenarios``).
SCENARIO_APPLIED = "scenario_applied"

LABELS = {
    LOGIN_SUCCEEDED: "Connexion réussie",
    LOGIN_FAILED: "Tentative de connexion échouée",
    LOGIN_REFUSED: "Connexion refusée",
    LOGIN_ABANDONED: "Connexion abandonnée après trop d'échecs",
    CIBA_REQUESTED: "Demande de connexion par un logiciel (CIBA)",
    TOKEN_ISSUED: "Accès accordé à un service",
    TOKEN_REFRESHED: "Accès renouvelé par un service",
    TOKEN_REVOKED: "Accès révoqué",
    LOGOUT: "Déconnexion",
    SCENARIO_APPLIED: "Scénario d'erreur appliqué (développement)",
}
