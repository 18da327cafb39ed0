"""Means of authentication, one package each, behind one interface (``base.Authenticator``)
and one registry (``registry``): ``card``, ``ecps``, ``fido`` and the development ``dev``."""
