"""The e-CPS service: devices (the professional's phones), their activation, and the push
requests they approve with a PIN. The device API and the simulator serve the phone side."""
