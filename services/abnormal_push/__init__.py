"""Abnormal push: abnormal-behaviour information (异常行为信息) pushed among the 12 departments,
signed for and answered, plus automatic detection of collusion signals.

Layout:
- ``domain/``: pure logic — reports and their checks, routing from the departments table
  (``platform_core/reference_data/departments.json``), working-day deadlines
  (``config/push_deadlines.json``), the push state machine, webhook signing, and the detection
  rule registry (``domain/detection/rules/``: one module + one JSON data file per rule).
- ``event_codec.py``: protobuf ↔ domain; ``publishing.py``: the two topics, keyed by report id
  and push id.
- ``read_model.py`` (inboxes, pushes, records, due times), ``detection.py`` (section bids and
  price history) and ``webhooks.py`` (queue, delivery log): Redis, under ``prt:abnormal_push:``.
- ``handlers.py``: routing, push projection, deadline watch; ``stream_worker.py``: the Faust
  agents and timers that call them; ``rebuild.py``: wipe the projections and replay the topics.
- ``http_api/``: reports, pushes (inbox, sign-for, feedback, transfer, counts), entity records,
  webhooks, detection status.
"""
