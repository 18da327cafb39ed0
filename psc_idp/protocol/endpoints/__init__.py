"""Endpoints beyond the grants: introspection (RFC 7662), revocation (RFC 7009) and pushed
authorization requests (RFC 9126)."""
