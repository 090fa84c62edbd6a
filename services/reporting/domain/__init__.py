"""Pure reporting logic: which counters an event moves. No Kafka, no Redis."""
