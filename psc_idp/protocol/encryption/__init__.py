"""Encryption (JWE, RFC 7516) of what we send a client and of what it sends us.

- ``algorithms``: what is supported (discovery, realm checks) and the client's choices;
- ``client_key``: the client's encryption key, from its ``jwks`` or ``jwks_uri``;
- ``outgoing``: ID tokens and UserInfo encrypted to the client (nested: signed, then encrypted);
- ``incoming``: request objects (RFC 9101 §6.1) and ``id_token_hint`` values encrypted to our
  key, decrypted before their signature is checked.

joserfc does the JOSE work: PyJWT, which signs and verifies everything else, has no JWE."""
