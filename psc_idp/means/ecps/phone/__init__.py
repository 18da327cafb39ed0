"""The phone side of the e-CPS: the device API (``api``) with its device authentication and long
polls, the ``/ecps`` simulator, and a virtual device for the CLI and tests."""
