"""Kafka client set-up shared by every service: producers, consumers, topic creation, Faust."""
