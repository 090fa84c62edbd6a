"""The AsyncAPI 3.0 document of the partner topics, generated from the topic registry and the
protobuf descriptors (so it cannot drift from what is published)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from google.protobuf.descriptor import FieldDescriptor

from services.platform_core.auth.dependencies import CurrentPrincipal
from services.platform_core.events.message_types import message_class
from services.platform_core.events.topics import (
    EVALUATIONS,
    VENUE_CAPACITY,
    TopicSpec,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from services.remote_eval.reference import partners

router = APIRouter(tags=["asyncapi"])

_SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_INT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}


def _schema(descriptor: Any, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    field: Any
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            name = field.message_type.full_name
            if name == "google.protobuf.Timestamp":
                schema: dict[str, Any] = {"type": "string", "format": "date-time"}
            elif name in seen:
                schema = {"type": "object"}
            else:
                schema = _schema(field.message_type, seen | {descriptor.full_name})
        elif field.type == FieldDescriptor.TYPE_ENUM:
            schema = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        else:
            schema = dict(_SCALARS.get(field.type, {"type": "number"}))
        if field.is_repeated:
            schema = {"type": "array", "items": schema}
        properties[field.name] = schema
    return {"type": "object", "title": descriptor.full_name, "properties": properties}


# What an event id is, as it is (the scheduler derives its events' ids from their cause, so that
# a decision retried after a crash is the same event and consumers drop the repeat).
CE_ID = (
    "The event's id, unique per event; a consumer drops a record whose id it has already "
    "processed (a redelivery, a retried decision). Events recorded from an API request carry a "
    "time-ordered UUIDv7. Events the scheduler derives from their cause (seat requests, expert "
    "draws, substitutes, seat withdrawals, cancellations, scheduling decisions, answer timeouts, "
    "and partners' answers as recorded on the platform's log) carry a name-based UUIDv5 of that "
    "cause, so a retried decision has the same id. Ids are therefore not in time order: do not "
    "sort or compare by id; order by the partition's offset (or ce_time)."
)
# On a partner's answers topic the partner writes the id; the platform records the answer on
# its own log under a UUIDv5 derived from it, so a resent answer must keep its id.
ANSWER_CE_ID = (
    "The answer's id, chosen by the partner: unique per answer (a UUIDv7 is recommended), and "
    "the same when an answer is resent, so the platform records it once (under a name-based "
    "UUIDv5 derived from it)."
)


def _messages(spec: TopicSpec, ce_id: str = CE_ID) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for type_name in sorted(spec.message_types):
        cls = message_class(type_name)
        if cls is None:
            continue
        short = type_name.rsplit(".", 1)[-1]
        messages[short] = {
            "name": type_name,
            "contentType": "application/protobuf",
            "summary": (cls.DESCRIPTOR.full_name),
            "headers": {
                "type": "object",
                "properties": {
                    "ce_id": {"type": "string", "description": ce_id},
                    "ce_type": {"type": "string", "const": type_name},
                    "ce_source": {"type": "string"},
                    "ce_time": {"type": "string", "format": "date-time"},
                    "ce_subject": {"type": "string"},
                    "ce_specversion": {"type": "string", "const": "1.0"},
                },
            },
            "payload": _schema(cls.DESCRIPTOR),
        }
    return messages


def asyncapi_document() -> dict[str, Any]:
    codes = sorted(partners())
    template_requests = partner_seat_requests_topic("{partnerCode}")
    template_answers = partner_answers_topic("{partnerCode}")
    parameters = {"partnerCode": {"enum": codes, "description": "the partner's region code"}}
    channels: dict[str, Any] = {
        "partnerSeatRequests": {
            "address": template_requests.name,
            "description": template_requests.description
            + " Readable only by that partner (prefixed ACL on partner.<code>.).",
            "parameters": parameters,
            "messages": _messages(template_requests),
        },
        "partnerAnswers": {
            "address": template_answers.name,
            "description": template_answers.description + " Writable only by that partner.",
            "parameters": parameters,
            "messages": _messages(template_answers, ANSWER_CE_ID),
        },
    }
    for key, spec in (("evaluations", EVALUATIONS), ("venueCapacity", VENUE_CAPACITY)):
        channels[key] = {
            "address": spec.name,
            "description": spec.description + " Internal to the platform.",
            "messages": _messages(spec),
        }
    operations = {
        "receiveSeatRequests": {
            "action": "receive",
            "channel": {"$ref": "#/channels/partnerSeatRequests"},
            "summary": "A partner reads its seat requests, expert draws and substitutes.",
        },
        "sendAnswers": {
            "action": "send",
            "channel": {"$ref": "#/channels/partnerAnswers"},
            "summary": "A partner answers: venue decisions, confirmations, refusals, no-shows.",
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "济南公共资源交易 · remote evaluation partner streams (远程异地评标)",
            "version": "1",
            "description": "Generated from the topic registry. Values are protobuf (prt.v1) "
            "with CloudEvents binary-mode headers; keys are evaluation ids. Experts appear "
            "only as per-evaluation pseudonyms.",
        },
        "defaultContentType": "application/protobuf",
        "servers": {
            "partners": {
                "host": "kafka.prt.local:9094",
                # TLS (SASL_SSL): each partner checks the broker against the platform's CA
                # certificate, given to it with its SCRAM credentials.
                "protocol": "kafka-secure",
                "description": "TLS, then SASL/SCRAM-SHA-512; one principal per partner",
                "security": [{"type": "scramSha512"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"securitySchemes": {"scram": {"type": "scramSha512"}}},
    }


@router.get(
    "/v1/asyncapi.json", summary="The AsyncAPI document of the partner topics and their messages"
)
async def get_asyncapi(principal: CurrentPrincipal) -> dict[str, Any]:
    """The AsyncAPI document of the partner topics: for any authenticated caller (partner,
    department, operator), like every API call."""
    return asyncapi_document()
