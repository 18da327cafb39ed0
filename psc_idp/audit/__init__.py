"""The audit trail (``trail``), its events (``events``) and its queries (``query``)."""

from psc_idp.audit.trail import AuditEvent, purge_audit, recent, record, row

__all__ = ["AuditEvent", "purge_audit", "recent", "record", "row"]
