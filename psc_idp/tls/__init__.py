"""TLS client certificates: where psc-idp finds the one a browser or a client presented, and
its own HTTPS listener for development (``psc-idp serve --tls-port``)."""
