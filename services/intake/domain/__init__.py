"""Intake's pure domain: registration rules, the trading catalogue, the lifecycle state machine,
Chinese working days. No Kafka, Redis or HTTP here."""
