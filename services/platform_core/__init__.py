"""What every service shares: the event envelope and codec, the topic registry, Kafka client
set-up, settings, and the HTTP edge's error format and authentication."""
