"""Pure intake rules: what a valid registration is. No Kafka, no Redis, no HTTP."""
