"""Means of authentication behind one small interface (``base.Authenticator``)."""
