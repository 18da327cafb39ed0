"""The console's audit events and their French labels (the audit page shows every label:
these, the login and protocol layers', the means')."""

from __future__ import annotations

from psc_idp.audit.events import LABELS as TRAIL_LABELS
from psc_idp.means.registry import audit_labels

LABELS = {
    "admin_login": "Connexion d'un administrateur",
    "admin_login_failed": "Connexion d'un administrateur refusée",
    "admin_logout": "Déconnexion d'un administrateur",
    "admin_account_created": "Administrateur créé",
    "admin_account_removed": "Administrateur supprimé",
    "admin_totp_reset": "Secret TOTP d'un administrateur renouvelé",
    "admin_client_created": "Client créé (console)",
    "admin_client_updated": "Client modifié (console)",
    "admin_client_disabled": "Client désactivé (console)",
    "admin_client_enabled": "Client réactivé (console)",
    "admin_professional_deactivated": "Professionnel désactivé (console)",
    "admin_professional_reactivated": "Professionnel réactivé (console)",
    "admin_professional_unlocked": "Verrouillage d'un professionnel levé (console)",
    "admin_device_revoked": "e-CPS révoquée (console)",
    "admin_device_unlocked": "e-CPS déverrouillée (console)",
    "admin_key_revoked": "Clé FIDO révoquée (console)",
    "admin_keys_rotated": "Clés de signature renouvelées (console)",
    "admin_scenario_added": "Scénario d'erreur ajouté (console)",
    "admin_scenario_removed": "Scénario d'erreur retiré (console)",
}


def all_labels() -> dict[str, str]:
    return {**TRAIL_LABELS, **audit_labels(), **LABELS}
