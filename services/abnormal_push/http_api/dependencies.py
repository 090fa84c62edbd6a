"""What abnormal push's routes are given, wired in the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.abnormal_push.detection import DetectionState
from services.abnormal_push.domain.routing import RoutingTable
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import (
    AbnormalPushSettings,
    get_push_settings,
    load_routing_table,
)
from services.abnormal_push.webhooks import WebhookStore
from services.platform_core.auth.dependencies import CurrentPrincipal, require_kind
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.idempotency import IdempotencyStore
from services.platform_core.kafka.publisher import EventPublisher


def _publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


def _read_model(request: Request) -> PushReadModel:
    model: PushReadModel = request.app.state.read_model
    return model


def _idempotency(request: Request) -> IdempotencyStore:
    store: IdempotencyStore = request.app.state.idempotency
    return store


def _webhooks(request: Request) -> WebhookStore:
    store: WebhookStore = request.app.state.webhooks
    return store


def _detection_state(request: Request) -> DetectionState:
    state: DetectionState = request.app.state.detection_state
    return state


def _department(principal: CurrentPrincipal) -> Principal:
    require_kind(principal, PrincipalKind.DEPARTMENT)
    return principal


def _reader(principal: CurrentPrincipal) -> Principal:
    require_kind(principal, PrincipalKind.DEPARTMENT, PrincipalKind.OPERATOR)
    return principal


Publisher = Annotated[EventPublisher, Depends(_publisher)]
ReadModel = Annotated[PushReadModel, Depends(_read_model)]
Idempotency = Annotated[IdempotencyStore, Depends(_idempotency)]
Webhooks = Annotated[WebhookStore, Depends(_webhooks)]
Detection = Annotated[DetectionState, Depends(_detection_state)]
Routing = Annotated[RoutingTable, Depends(load_routing_table)]
PushSettings = Annotated[AbnormalPushSettings, Depends(get_push_settings)]
# A department acting for itself (filing, signing for, answering).
ActingDepartment = Annotated[Principal, Depends(_department)]
# A department (its own pushes) or an operator (everything).
Reader = Annotated[Principal, Depends(_reader)]
