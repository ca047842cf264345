"""The edge agent: counter drivers, camera pipeline, store-and-forward, MQTT publisher."""
