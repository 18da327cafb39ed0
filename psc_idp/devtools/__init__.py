"""Tools for the developers of service providers (issue 18): the request journal, and beside it
the error scenarios, the debugger page. Above the protocol: the protocol imports none of them."""
