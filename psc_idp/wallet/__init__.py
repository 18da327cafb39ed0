"""The wallet front end: the login page (la mire), the means' pages, the home page."""
