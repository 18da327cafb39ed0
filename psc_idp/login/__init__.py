"""The login between the protocol and the authenticators: pending transactions and SSO sessions."""
