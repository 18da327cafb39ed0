"""Development tools for service providers' developers (issue 18): above the protocol, which
they observe or bend through the hooks it offers; on only when their setting says so."""
