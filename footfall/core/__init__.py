"""The contract every part of Footfall shares.

Message models, the MQTT topic scheme, settings, store-local calendar helpers and the
KPI formulas as pure functions. Nothing here imports another Footfall package.
"""
