"""DPoP (RFC 9449): proofs of possession of a client key, and tokens bound to that key.

``proof`` checks a ``DPoP`` header; ``nonce`` makes and checks the server's nonces;
``binding`` decides, at each endpoint, which key a token is bound to or must be presented with.
"""
