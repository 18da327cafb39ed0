"""The PSC claims explained in French, for a developer reading a token or a UserInfo answer
(meanings from psc-reference §4–7, protocol/claims.py and directory/userinfo.py)."""

from __future__ import annotations

from typing import Any

AUTH_MODES = {
    "CARD": "carte CPS (ou CPE) lue par le poste du professionnel",
    "MOBILE": "application e-CPS sur le téléphone du professionnel",
    "FIDO": "clé de sécurité FIDO enregistrée dans son espace",
    "FI_TIERS": "compte de son établissement (fournisseur d'identité tiers, FI Tiers)",
}
ACRS = {
    "eidas1": "niveau eIDAS substantiel (e-CPS)",
    "eidas2": "niveau intermédiaire (clé FIDO, valeur propre à psc-idp)",
    "eidas3": "niveau eIDAS élevé (carte CPS)",
}

MEANINGS: dict[str, str] = {
    "iss": "Émetteur : l'URL du realm Pro Santé Connect qui a signé le jeton.",
    "sub": "Identifiant du professionnel pour ce service : « f:<uuid>:<identifiant national> » "
    "(forme Keycloak), ou un identifiant par secteur (pairwise) si le client le demande.",
    "aud": "Destinataire du jeton : le client_id du service.",
    "azp": "Partie autorisée : le client_id du service qui a obtenu le jeton.",
    "exp": "Expiration (secondes depuis 1970) : 120 s après l'émission chez PSC.",
    "iat": "Date d'émission (secondes depuis 1970).",
    "auth_time": "Moment où le professionnel s'est authentifié (secondes depuis 1970).",
    "jti": "Identifiant unique du jeton.",
    "typ": "Type Keycloak du jeton : ID, Bearer, Refresh ou Offline.",
    "nonce": "Valeur envoyée par le service dans sa demande d'autorisation : il doit la "
    "retrouver ici (protection contre le rejeu).",
    "session_state": "Identifiant de la session SSO de Pro Santé Connect.",
    "sid": "Identifiant de session (OIDC), le même que session_state ; il sert à la déconnexion.",
    "at_hash": "Empreinte du jeton d'accès, pour lier l'id_token au jeton d'accès reçu avec lui.",
    "acr": "Niveau d'authentification atteint (eidas1 : e-CPS ; eidas3 : carte CPS). Le service "
    "le compare à ce qu'il a demandé dans acr_values.",
    "amr": "Méthodes d'authentification, telles que l'établissement (FI Tiers) les a déclarées ; "
    "PSC n'en met pas pour ses propres moyens (authMode le dit).",
    "authMode": "Moyen d'authentification utilisé par le professionnel (claim propre à PSC).",
    "SubjectNameID": "Identifiant national du professionnel (idNat_PS) : 8 + RPPS, 0 + ADELI, "
    "3 + FINESS/identifiant interne…",
    "preferred_username": "Identifiant national du professionnel, comme SubjectNameID.",
    "given_name": "Prénom(s) d'état civil.",
    "family_name": "Nom d'état civil.",
    "name": "Prénom et nom.",
    "email": "Adresse électronique (portée email).",
    "email_verified": "Adresse électronique vérifiée ou non.",
    "scope": "Portées accordées.",
    "otherIds": "Autres identifiants du professionnel : chaque entrée donne l'identifiant, son "
    "origine (RPPS, ADELI…) et sa qualité (1 : identifiant de référence).",
    "SubjectRefPro": "Situation professionnelle complète (UserInfo) : ses exercices (profession, "
    "catégorie, savoir-faire) et, pour chacun, ses activités (structure, mode et secteur "
    "d'exercice, adresse).",
    "SubjectOrganization": "Raison sociale de la structure de la première activité.",
    "SubjectOrganizationID": "Identifiant technique de cette structure.",
    "SubjectRole": "Professions exercées, « <code profession TRE_G15>^1.2.250.1.213.1.1.5.5 » "
    "(10 : médecin, 21 : pharmacien, 60 : infirmier…).",
    "Secteur_Activite": "Secteur d'activité de la première activité, « <code TRE_R02>^"
    "1.2.250.1.71.4.2.4 » (SA07 : cabinet individuel, SA01 : établissement public…).",
    "Palier_Authentification": "Palier d'authentification (claim historique, selon le moyen).",
    "PSI_Locale": "Identifiant de la politique de sécurité locale (valeur fixe de PSC).",
    "Mode_Acces_Raison": "Raison d'un accès en mode dérogatoire (vide en général).",
    "Acces_Regulation_Medicale": "Accès en régulation médicale (VRAI ou FAUX).",
    "UITVersion": "Version du format de ces attributs.",
    "active": "Introspection : le jeton est-il encore valable ?",
    "client_id": "Introspection : le service à qui le jeton a été délivré.",
    "username": "Introspection : l'identifiant national du professionnel.",
    "realm_access": "Rôles du realm (portée roles).",
    "allowed-origins": "Origines web autorisées du client (CORS).",
}


def explain_claims(claims: dict[str, Any]) -> list[dict[str, str]]:
    """The claims present that have a meaning to tell, in the token's order."""
    rows = []
    for name, value in claims.items():
        meaning = MEANINGS.get(name)
        if meaning is None:
            continue
        detail = ""
        if name == "authMode" and isinstance(value, str):
            detail = AUTH_MODES.get(value, "moyen inconnu de PSC")
        elif name == "acr" and isinstance(value, str):
            detail = ACRS.get(value, "niveau propre à ce realm")
        rows.append({"name": name, "meaning": meaning, "detail": detail})
    return rows
