"""Token endpoints beyond the grants: introspection (RFC 7662) and revocation (RFC 7009)."""
