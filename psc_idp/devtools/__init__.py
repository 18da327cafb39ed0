"""Developer tools of the development mode (issue 18): pages and commands that help a service
provider see and break its exchanges with psc-idp. Nothing here runs in production."""
