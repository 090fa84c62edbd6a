"""Abnormal push's pure domain logic: reports, routing, deadlines, pushes, detection rules.

Nothing here touches Kafka, Redis or protobuf; the edges convert to and from these dataclasses.
"""
