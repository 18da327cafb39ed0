"""Tools for the developers of service providers (issue 18): the request journal, the error
scenarios, the debugger page. Above the protocol, which they observe or bend through the hooks
it offers (the protocol imports none of them); on only when their setting says so."""
