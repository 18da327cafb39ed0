"""Logs: JSON lines in production, readable text in development; one line per request.

The handler sits on the root logger so that psc-idp's, Flask's and the libraries' lines all carry
the request id; it is installed once per process (the tests build many apps)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from psc_idp.config import Settings
from psc_idp.observe.request_id import RequestIdFilter

ACCESS_LOGGER = "psc_idp.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


class _PscHandler(logging.StreamHandler):
    """Marks the handler as ours, so that a second configuration replaces it."""


def log_format(settings: Settings) -> str:
    if settings.log_format in ("json", "text"):
        return settings.log_format
    if settings.log_format:
        raise ValueError(f"PSC_LOG_FORMAT : {settings.log_format!r} (json ou text)")
    return "text" if settings.dev_mode else "json"


def formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _PscHandler)]:
        root.removeHandler(handler)
    handler = _PscHandler(sys.stderr)
    handler.setFormatter(formatter(log_format(settings)))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    # psc-idp's own lines from INFO on; the libraries' from WARNING (root's default). Flask adds
    # a handler of its own to app.logger ("psc_idp") unless one is found up the hierarchy: ours.
    logging.getLogger("psc_idp").setLevel(logging.INFO)
    access = logging.getLogger(ACCESS_LOGGER)
    access.setLevel(logging.INFO if settings.access_log else logging.WARNING)


def access_line(fields: dict[str, object]) -> None:
    """One line per request: the fields as JSON keys, and a readable message for text logs."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.isEnabledFor(logging.INFO):
        return
    client = f" client={fields['client_id']}" if fields.get("client_id") else ""
    message = (
        f"{fields['method']} {fields['endpoint']} {fields['status']} "
        f"{fields['duration_ms']} ms {fields['remote_addr']}{client}"
    )
    logger.info(message, extra=fields)
