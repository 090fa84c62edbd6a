"""A partner's answer decided over HTTP: the scheduler's refusal is a 409 with its reason, a
lost decision lease a 503 to retry with the same Idempotency-Key — never a 500."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2

from services.platform_core.errors import EventRejected
from services.platform_core.events.envelope import Envelope
from services.platform_core.http.errors import ApiError
from services.platform_core.redis_lease import LeaseLost
from services.remote_eval.http_api.answers import decide

ANSWER = Envelope(
    message=remote_eval_pb2.ExpertConfirmed(evaluation_id="EV-1", expert_pseudonym="EXP-1"),
    source="prt/partners/370300",
    subject="EV-1",
)


class Refusing:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.answers: list[str] = []

    async def record_partner_answer(self, envelope: Envelope[Message], partner: str) -> None:
        if self.error is not None:
            raise self.error
        self.answers.append(envelope.id)


async def test_an_answer_the_scheduler_refuses_is_409_with_its_reason() -> None:
    with pytest.raises(ApiError) as refused:
        await decide(Refusing(EventRejected("expert EXP-1 was not drawn")), ANSWER, "370300")
    assert (refused.value.status, refused.value.code) == (409, "answer_refused")
    assert "expert EXP-1 was not drawn" in refused.value.message


async def test_a_lost_lease_is_503_to_retry_with_the_same_key() -> None:
    with pytest.raises(ApiError) as busy:
        await decide(Refusing(LeaseLost("taken")), ANSWER, "370300")
    assert (busy.value.status, busy.value.code) == (503, "scheduler_busy")
    assert busy.value.headers == {"Retry-After": "1"}
    assert "same Idempotency-Key" in busy.value.message


async def test_an_accepted_answer_passes() -> None:
    scheduler = Refusing(None)
    await decide(scheduler, ANSWER, "370300")
    assert scheduler.answers == [ANSWER.id]
