"""Abnormal push: abnormal-behaviour information (异常行为信息) pushed among the 12 departments,
signed for and answered, plus automatic detection of collusion signals.

Layout:
- ``domain/``: pure logic — reports and their checks, routing from the departments table
  (``platform_core/reference_data/departments.json``), working-day deadlines
  (``config/push_deadlines.json``), the push state machine (deadlines judged by the business
  times of its steps, so backfilled history is late or in time as it was), webhook signing,
  registrations and their derived secrets, the SSRF guard on webhook URLs, and the detection
  rule registry (``domain/detection/rules/``: one module + one JSON data file per rule).
- ``event_codec.py``: protobuf ↔ domain; ``publishing.py``: the three topics, keyed by report
  id, push id and department (webhook registrations).
- ``read_model.py`` (inboxes, per-status list indexes, pushes, records, due times),
  ``detection.py`` (section bids and price history) and ``webhooks.py`` (registrations, queue,
  delivery log): Redis, under ``prt:abnormal_push:``. ``webhook_addresses.py`` resolves and pins
  webhook targets.
- ``handlers.py``: routing, push and webhook projections, deadline watch; ``stream_worker.py``:
  the Faust agents and timers that call them; ``rebuild.py``: wipe the projections and replay the
  topics (also needed once after an upgrade that adds an index).
- ``http_api/``: reports, pushes (inbox pages, sign-for, feedback, transfer, counts), entity
  records, webhooks, detection status. Every write takes ``occurred_at`` from backfill keys.
"""
