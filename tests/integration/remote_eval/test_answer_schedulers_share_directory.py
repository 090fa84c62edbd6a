"""The API decides each partner answer with a scheduler of its own (answers.py): they share the
process's expert directory, so answers arriving in bulk do not each read the whole registry
from Redis again; a registration moves the registry's version and the next answer reads it
anew. On the real broker and Redis (the scheduler rig), each substitute drawn as the API draws
it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.events.envelope import Envelope
from services.remote_eval.domain.model import Expert, HalfDay
from services.remote_eval.scheduler import ExpertDirectoryCache, Scheduler
from services.remote_eval.sealed_registry import ExpertRegistry
from tests.integration.remote_eval.scheduler_rig import HOST, PARTNER, Rig, far_slot

pytestmark = pytest.mark.integration


class CountingRegistry(ExpertRegistry):
    """The rig's real registry, counting how often the whole registry is read."""

    def __init__(self, inner: ExpertRegistry) -> None:
        self.__dict__.update(inner.__dict__)
        self.full_reads = 0

    async def all_experts(self) -> list[Expert]:
        self.full_reads += 1
        return await super().all_experts()


def _per_answer_scheduler(rig: Rig, registry: ExpertRegistry) -> Scheduler:
    """A scheduler as the answers route makes one for each request."""
    return Scheduler(
        rig.redis,
        rig.store,
        registry,
        rig.published,
        rig.settings,
        directory_cache=rig.context.expert_directory,
    )


def _declined(evaluation_id: str, pseudonym: str) -> Envelope[remote_eval_pb2.ExpertDeclined]:
    return Envelope(
        message=remote_eval_pb2.ExpertDeclined(
            evaluation_id=evaluation_id, partner_code=PARTNER, expert_pseudonym=pseudonym
        ),
        source=f"partner/{PARTNER}",
        subject=evaluation_id,
        time=datetime.now(UTC),
    )


async def test_answer_schedulers_read_the_registry_once_until_it_moves(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 20})
    state = await rig.scheduled(specialty, far_slot(HalfDay.PM))
    evaluation_id = state.request.evaluation_id
    first, second, third = [m for m in state.members if m.assignment.pool_code == PARTNER][:3]
    registry = CountingRegistry(rig.registry)
    assert isinstance(rig.context.expert_directory, ExpertDirectoryCache)

    # Two answers, each decided by a fresh scheduler: each draws a substitute from the directory.
    for member in (first, second):
        await _per_answer_scheduler(rig, registry).record_partner_answer(
            _declined(evaluation_id, member.pseudonym), PARTNER
        )
    after_two = await rig.state(evaluation_id)
    assert [m.status for m in after_two.former] == ["declined", "declined"]
    assert len(after_two.draws) == 3  # the committee's and two substitutes'
    assert registry.full_reads == 1

    # A registration moves the registry's version: the next answer reads the registry again.
    await rig.add_experts(specialty, PARTNER, 1, first=20)
    await _per_answer_scheduler(rig, registry).record_partner_answer(
        _declined(evaluation_id, third.pseudonym), PARTNER
    )
    assert len((await rig.state(evaluation_id)).draws) == 4
    assert registry.full_reads == 2
