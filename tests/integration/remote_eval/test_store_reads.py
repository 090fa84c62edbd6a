"""What a decision reads from the store: the days around its slot and the offers of its slots
only, however many slots and draws the store keeps (it grows with every evaluation; a read of
all of it per decision made remote_eval fall behind its log at full load).

These tests write to the store directly, with nothing on the log: they delete what they wrote,
since later tests (rebuilds, the fault suite) compare the store with the log."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from redis.asyncio import Redis

from services.remote_eval.domain.model import HalfDay, SeatOffer, Slot
from services.remote_eval.reference import venue_directory
from services.remote_eval.store import (
    LEGACY_DRAW_DAYS_KEY,
    OFFERS_KEY,
    EvaluationState,
    RemoteEvalStore,
    drawn_on_key,
)
from tests.unit.remote_eval.fixtures import request

# Far from any other test's days: the store's keys are shared by the whole test stack.
# A day of its own per run, far past any other test's: up to ~7,400 years after 2300 (with
# % 100_000 one run in sixteen passed year 9999 and failed the whole suite's collection).
DAY = date(2300, 1, 1) + timedelta(days=uuid.uuid4().int % 90_000 * 30)


async def test_draw_history_holds_the_days_within_the_window_of_the_slots(redis: Redis) -> None:
    store = RemoteEvalStore(redis)
    tag = uuid.uuid4().hex[:8]
    # One expert drawn for each day from 8 days before the slot to 8 days after it.
    drawn = {offset: f"{tag}-{offset:+d}" for offset in range(-8, 9)}
    for offset, expert_id in drawn.items():
        day = DAY + timedelta(days=offset)
        state = EvaluationState(
            request=request(evaluation_id=f"EV-{tag}{offset}", project_id=f"P-{tag}")
        )
        await store.save(state, None, draw_days=([expert_id], day))
    slot = Slot(DAY, HalfDay.AM)
    try:
        history = await store.history([slot], recent_draw_days=7)
        mine = {k: v for k, v in history.draw_days.items() if k.startswith(tag)}
        # Less than 7 days apart: 6 days before to 6 days after, each with its own day.
        assert mine == {drawn[o]: (DAY + timedelta(days=o),) for o in range(-6, 7)}
        assert history.drawn_recently(drawn[-6], DAY, 7)
        assert not history.drawn_recently(drawn[-7], DAY, 7)
        # Two slots a fortnight apart: the window around each, and not the day between them
        # (7 days from both), nor any other day a batch's slots span.
        later = Slot(DAY + timedelta(days=14), HalfDay.PM)
        both = await store.history([slot, later], recent_draw_days=7)
        assert {k for k in both.draw_days if k.startswith(tag)} == set(drawn.values()) - {
            drawn[-8],
            drawn[-7],
            drawn[7],
        }
        assert (await store.history([slot], recent_draw_days=0)).draw_days == {}
    finally:
        written = [key async for key in redis.scan_iter(match=f"prt:remote_eval:*{tag}*")]
        await redis.delete(*written, *(drawn_on_key(DAY + timedelta(days=o)) for o in drawn))


async def test_offers_read_are_those_of_the_slots_asked_for(redis: Redis) -> None:
    store = RemoteEvalStore(redis)
    venue_id = sorted(venue_directory())[0]
    slots = [Slot(DAY + timedelta(days=100 + n), HalfDay.PM) for n in range(3)]
    for n, slot in enumerate(slots):
        await store.publish_offer(SeatOffer(venue_id, slot, seats=10 + n, fee_fen=500 + n))
    unpublished = Slot(DAY + timedelta(days=99), HalfDay.PM)
    try:
        offers = await store.published_offers([(venue_id, slots[1]), (venue_id, unpublished)])

        assert offers == {(venue_id, slots[1]): SeatOffer(venue_id, slots[1], 11, 501)}
        market = await store.market([slots[2]])
        assert market.offers[(venue_id, slots[2])] == SeatOffer(venue_id, slots[2], 12, 502)
        assert await store.published_offers([]) == {}
    finally:
        await redis.hdel(OFFERS_KEY, *(f"{venue_id}|{slot.key()}" for slot in slots))


async def test_draw_days_of_the_former_layout_are_moved_to_the_day_sets(redis: Redis) -> None:
    store = RemoteEvalStore(redis)
    tag = uuid.uuid4().hex[:8]
    days = [DAY + timedelta(days=200 + n) for n in range(3)]
    legacy = {
        f"{tag}-a": json.dumps([days[0].isoformat(), days[2].isoformat()]),
        f"{tag}-b": json.dumps([days[2].isoformat()]),
    }
    for expert_id, draw_days in legacy.items():
        await redis.hset(LEGACY_DRAW_DAYS_KEY, expert_id, draw_days)
    try:
        assert await store.migrate_legacy_draw_days() == 2
        assert not await redis.exists(LEGACY_DRAW_DAYS_KEY)
        history = await store.history([Slot(days[1], HalfDay.AM)], recent_draw_days=2)
        assert history.draw_days == {f"{tag}-a": (days[0], days[2]), f"{tag}-b": (days[2],)}
        assert await store.migrate_legacy_draw_days() == 0  # nothing left to move
    finally:
        await redis.delete(LEGACY_DRAW_DAYS_KEY, *(drawn_on_key(day) for day in days))
