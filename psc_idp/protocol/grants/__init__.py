"""The grants registered on the authorization server."""
