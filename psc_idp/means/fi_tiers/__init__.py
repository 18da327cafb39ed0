"""« FI Tiers »: an establishment's own identity provider, federated into psc-idp (Keycloak's
identity brokering), with the local account paired once to the professional's national id."""
