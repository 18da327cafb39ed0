"""Logout: RP-initiated (``rp_initiated``), and the clients told of it, by the back channel
(``backchannel``: logout tokens POSTed from the server) and the front channel
(``frontchannel``: their pages loaded in the browser)."""

from psc_idp.protocol.logout.rp_initiated import logout_response, upstream_logout_done

__all__ = ["logout_response", "upstream_logout_done"]
