"""e-CPS rows past their useful life (``psc-idp purge``).

- pushes: an hour after they expired (a decision comes before expiry), or longer when a login
  transaction, a CIBA request or a FIDO enrolment may still read them: nothing shows a push
  once it is over (the account page lists the audit events, not pushes);
- push gates: the same time after the professional's last push (the next sender writes the row
  again, so the gate's serialisation never depends on it being there);
- activations: once expired, used or not (their codes are refused from then on);
- outbox: after ``outbox_retention`` (its codes expired long before; /dev/outbox shows the
  latest).

Devices stay until revoked by their owner or an administrator; scenarios come from the realm."""

from __future__ import annotations

from datetime import timedelta

from psc_idp.config import Settings
from psc_idp.means.ecps.models import EcpsActivation, EcpsPush, EcpsPushGate, OutboxMessage
from psc_idp.purge import delete_where
from psc_idp.timeutil import now


def push_keep(settings: Settings) -> timedelta:
    """How long a push is kept after it expired."""
    seconds = max(
        3600,
        settings.login_lifetime,
        settings.ciba_request_lifetime,
        settings.fido_enrolment_approval_window,
    )
    return timedelta(seconds=seconds)


def purge_ecps(settings: Settings) -> dict[str, int]:
    moment = now()
    keep = push_keep(settings)
    return {
        "ecps_pushes": delete_where(EcpsPush, EcpsPush.expires_at < moment - keep),
        "ecps_push_gates": delete_where(EcpsPushGate, EcpsPushGate.last_push_at < moment - keep),
        "ecps_activations": delete_where(EcpsActivation, EcpsActivation.expires_at < moment),
        "outbox_messages": delete_where(
            OutboxMessage,
            OutboxMessage.created_at < moment - timedelta(seconds=settings.outbox_retention),
        ),
    }
