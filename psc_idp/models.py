"""Every persistent model, imported in one place for Alembic and ``create_all``."""

from psc_idp.admin.models import AdminAccount, AdminSession, AdminTotpStep
from psc_idp.api_as.models import ExchangedToken, ProtectedApi, UserinfoCache
from psc_idp.audit import AuditEvent
from psc_idp.devtools.debugger.models import DebuggerRun
from psc_idp.devtools.journal.models import JournalEntry
from psc_idp.devtools.scenarios.models import Scenario
from psc_idp.directory.fhir.models import ApiKey
from psc_idp.directory.importers.models import ImportRun, ImportSeen
from psc_idp.directory.models import *  # noqa: F403
from psc_idp.lockout import Lockout
from psc_idp.login.models import LoginTransaction, SsoSession
from psc_idp.means.ecps.models import (
    EcpsActivation,
    EcpsDevice,
    EcpsPush,
    EcpsPushGate,
    EcpsScenario,
    OutboxMessage,
)
from psc_idp.means.fi_tiers.models import FiIdentityProvider, FiTiersLogin, FiTiersPairing
from psc_idp.means.fido.models import FidoCeremony, FidoCredential
from psc_idp.pki.models import PkiCertificate, PkiCrl, PkiCrlCache
from psc_idp.protocol.ciba.models import CibaRequest
from psc_idp.protocol.logout.models import LogoutContinuation, LogoutDelivery
from psc_idp.protocol.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Grant,
    PushedAuthorizationRequest,
    RefreshToken,
)
from psc_idp.realm.models import RealmOption
from psc_idp.replay import SeenOnce
from psc_idp.throttle import ThrottleWindow

__all__ = [
    "JournalEntry",
    "AdminAccount",
    "AdminSession",
    "AdminTotpStep",
    "ExchangedToken",
    "ProtectedApi",
    "UserinfoCache",
    "ApiKey",
    "DebuggerRun",
    "ImportRun",
    "ImportSeen",
    "AccessToken",
    "AuditEvent",
    "CibaRequest",
    "EcpsActivation",
    "EcpsDevice",
    "EcpsPush",
    "EcpsPushGate",
    "EcpsScenario",
    "FiIdentityProvider",
    "FiTiersLogin",
    "FiTiersPairing",
    "FidoCeremony",
    "FidoCredential",
    "Lockout",
    "OutboxMessage",
    "PkiCertificate",
    "PkiCrl",
    "PkiCrlCache",
    "Scenario",
    "SeenOnce",
    "AuthorizationCode",
    "Client",
    "Grant",
    "LoginTransaction",
    "LogoutContinuation",
    "LogoutDelivery",
    "PushedAuthorizationRequest",
    "RealmOption",
    "RefreshToken",
    "SsoSession",
    "ThrottleWindow",
]
