"""« Application e-CPS »: devices (the professional's phones), their activation, and the push
requests they approve with a PIN; login (``authenticator``), account pages (``account``), CLI
(``cli``). The phone side (device API, simulator, virtual device) is ``phone/``."""
