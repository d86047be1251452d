"""The counter's devices, in plain Python (no Qt): the ID card reader (二代身份证阅读器) and its
backends (`idcard`: the one interface, the card's fields for a form, the settings string;
`idcard_serial`: the vendors' serial protocol; `idcard_sdk`: the vendors' SDK libraries through
ctypes; `idcard_sim`: a simulated reader on a pseudo-terminal for the demo and the tests), and
the other devices beside them. Each device's absence or failure is an error carrying a
bilingual `reason`, so the counter says it in a sentence and works on without the device.
"""
