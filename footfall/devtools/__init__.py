"""Developer tooling: private PostgreSQL and Mosquitto instances for tests and the demo."""
