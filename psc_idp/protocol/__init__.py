"""OAuth 2.0 / OpenID Connect protocol: endpoints, grants, tokens, client authentication."""
