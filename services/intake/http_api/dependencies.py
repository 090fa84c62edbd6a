"""What intake's routes are given: the event publisher, wired in the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.platform_core.kafka.publisher import EventPublisher


def _publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


Publisher = Annotated[EventPublisher, Depends(_publisher)]
