"""The French error page, shared by every browser-facing view."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template

from psc_idp.config import current_settings


def error_page(
    title: str,
    message: str,
    details: str = "",
    status: int = 400,
    back_url: str | None = None,
    redirect_check: dict[str, Any] | None = None,
) -> Response:
    html = render_template(
        "wallet/error.html",
        title=title,
        message=message,
        details=details,
        back_url=back_url,
        redirect_check=redirect_check,
        status=status,
        dev_mode=current_settings().dev_mode,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response
