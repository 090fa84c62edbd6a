"""The venue directory, owners' seat publications, and the check-in list on the day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.dependencies import CurrentPrincipal, require_kind
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import VENUE_CAPACITY
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.idempotency import StoredResponse
from services.remote_eval import event_codec
from services.remote_eval.check_in_reads import CheckInReads
from services.remote_eval.domain.check_in import masked_id_number, masked_phone
from services.remote_eval.domain.model import SHANGHAI, HalfDay, Slot, VenueRole
from services.remote_eval.http_api.dependencies import (
    Context,
    IdempotencyKey,
    RemoteEvalContext,
    evaluation_or_404,
    require_venue_staff,
)
from services.remote_eval.http_api.schemas import (
    SLOT_RANGE,
    CapacityAccepted,
    CapacityCreate,
    CapacityPublic,
    CheckInExpert,
    CheckInReadPublic,
    SlotBody,
    SlotDay,
    VenuePublic,
)
from services.remote_eval.reference import DirectoryEntry, venue_directory

router = APIRouter(prefix="/v1/venues", tags=["venues"])


def overbooking_refusal(
    venue_id: str, slot: Slot, seats: int, bookings: Mapping[str, int], visible: frozenset[str]
) -> ApiError | None:
    """The refusal of offering ``seats`` where ``bookings`` (evaluation id -> seats) already hold
    more, else None. Cut below what is booked, the venue would be overbooked with every booked
    evaluation still scheduled there and no one told; so the owner is told how many seats are
    held and by how many evaluations. Only the ``visible`` evaluation ids are named: the others
    are counted, not identified."""
    booked = sum(bookings.values())
    if seats >= booked:
        return None
    named = sorted(e for e in bookings if e in visible)
    unnamed = len(bookings) - len(named)
    by = ", ".join(f"{e} ({bookings[e]} seats)" for e in named)
    if unnamed:
        by += (", " if by else "") + f"{unnamed} other evaluation{'s' if unnamed != 1 else ''}"
    slot_text = f"{slot.day.isoformat()} {slot.half.value}"
    return ApiError(
        409,
        "seats_booked",
        f"Venue {venue_id} has {booked} seats booked on {slot_text} by {len(bookings)} "
        f"evaluation{'s' if len(bookings) != 1 else ''} ({by}); it cannot offer {seats}, fewer "
        f"than are booked. Offer at least {booked}, or free seats first: a partner venue "
        "declines an evaluation's seat request (POST /v1/evaluations/{evaluation_id}/"
        "venue-decisions), which re-plans it elsewhere",
        [FieldProblem(field="seats", problem=f"{seats} offered, {booked} booked")],
    )


async def _may_see_evaluation(
    context: RemoteEvalContext, principal: Principal, venue_id: str, evaluation_id: str
) -> bool:
    """Whether ``principal`` (already the venue's owner) may be told ``evaluation_id``: an
    operator, the host's department, or the owner of a venue the evaluation sent a seat request
    to (the id is in that request)."""
    if principal.kind is PrincipalKind.OPERATOR:
        return True
    state = await context.store.evaluation(evaluation_id)
    if state is None:
        return False
    if principal.may_act_for_region(state.request.host_code):
        return True
    return any(a.venue_id == venue_id and a.role is VenueRole.SECONDARY for a in state.allocations)


async def refuse_overbooking(
    context: RemoteEvalContext, principal: Principal, venue_id: str, slot: Slot, seats: int
) -> None:
    bookings = (await context.store.bookings(slot)).get(venue_id, {})
    if seats >= sum(bookings.values()):
        return
    visible = frozenset(
        [e for e in bookings if await _may_see_evaluation(context, principal, venue_id, e)]
    )
    refusal = overbooking_refusal(venue_id, slot, seats, bookings, visible)
    if refusal is not None:
        raise refusal


def _venue_or_404(venue_id: str) -> DirectoryEntry:
    entry = venue_directory().get(venue_id)
    if entry is None:
        raise ApiError(404, "venue_not_found", f"No venue {venue_id} in the directory")
    return entry


@router.get(
    "",
    response_model=list[VenuePublic],
    summary="The shared directory of evaluation venues (工位) with default seats and fees",
)
async def list_venues(principal: CurrentPrincipal) -> list[VenuePublic]:
    """The shared directory of evaluation venues (工位) with default seats and fees."""
    return [
        VenuePublic(
            venue_id=e.venue.venue_id,
            name=e.venue.name,
            owner_code=e.venue.owner_code,
            region_code=e.venue.region_code,
            default_seats=e.default_seats,
            fee_fen=e.fee_fen,
        )
        for e in venue_directory().values()
    ]


@router.post(
    "/{venue_id}/capacity",
    status_code=202,
    response_model=CapacityAccepted,
    summary="The venue's owner publishes or revises its seats and fee for a half-day",
    responses={409: {"model": ErrorBody, "description": "seats_booked: fewer than are booked"}},
)
async def publish_capacity(
    venue_id: str,
    body: CapacityCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """The venue's owner publishes (or revises) its seats and fee for one half-day slot. Seats
    may not be cut below what evaluations have booked in the slot (409 ``seats_booked``, with
    the count, and the evaluations the caller may know of). Should a booking come between this
    check and the publication, the scheduler withdraws the seats of the evaluations booked last
    (VenueSeatsWithdrawn): each is re-planned at another partner's venue as after a decline, or
    fails if this is its main venue. Published by the venue's own staff (as its check-in list is
    read): a partner's venue by the partner; a host venue by the trading centre or its
    sub-centre for the region — not by a supervising department covering the region."""
    entry = _venue_or_404(venue_id)
    require_venue_staff(principal, entry.venue)
    now = business_time(principal, body.occurred_at)
    slot = body.slot.to_slot()

    async def publish() -> StoredResponse:
        # Checked inside the idempotent action: a retry of a revision once accepted gets its
        # 202 again, even if seats were booked since.
        await refuse_overbooking(context, principal, venue_id, slot, body.seats)
        message = remote_eval_pb2.VenueCapacityPublished(
            venue_id=venue_id,
            occurred_at=to_timestamp(now),
            partner_code=entry.venue.owner_code,
            venue_name=entry.venue.name,
            region_code=entry.venue.region_code,
            slot=event_codec.slot_message(slot),
            seats=body.seats,
            fee_fen=body.fee_fen,
        )
        envelope = Envelope(
            message=message,
            source=f"prt/remote-eval/{principal.code}",
            subject=venue_id,
            time=now,
        )
        await context.publisher.publish(VENUE_CAPACITY, envelope, key=venue_id)
        accepted = CapacityAccepted(
            venue_id=venue_id, slot=body.slot, seats=body.seats, fee_fen=body.fee_fen
        )
        return StoredResponse(202, accepted.model_dump(mode="json"))

    return await context.idempotency.run(
        f"{principal.idempotency_owner}:venue-capacity:{venue_id}",
        idempotency_key,
        body.model_dump(mode="json"),
        publish,
    )


@router.get(
    "/{venue_id}/capacity",
    response_model=CapacityPublic,
    summary="A venue's seats offered, booked and free in one half-day slot",
)
async def venue_capacity(
    venue_id: str,
    principal: CurrentPrincipal,
    context: Context,
    day: Annotated[SlotDay, Query(alias="date", description=SLOT_RANGE)],
    half_day: Annotated[HalfDay, Query()],
) -> CapacityPublic:
    """Seats offered (as last published, else the directory's default), booked and free."""
    _venue_or_404(venue_id)
    slot = Slot(day, half_day)
    market = await context.store.market([slot])
    offer = market.offers[(venue_id, slot)]
    return CapacityPublic(
        venue_id=venue_id,
        slot=SlotBody.of(slot),
        seats=offer.seats,
        booked=market.booked.get((venue_id, slot), 0),
        free=market.free_seats(venue_id, slot),
        fee_fen=offer.fee_fen,
    )


@router.get(
    "/check-in-reads",
    response_model=list[CheckInReadPublic],
    summary="The audit trail of check-in lists shown: who saw experts' identities, when",
)
async def check_in_reads(
    principal: CurrentPrincipal,
    context: Context,
    evaluation_id: Annotated[str | None, Query(description="only this evaluation's")] = None,
    venue_id: Annotated[str | None, Query(description="only this venue's")] = None,
) -> list[CheckInReadPublic]:
    """Every check-in list shown (for operators): the key that was shown it (principal kind,
    code, key id), the evaluation and venue, when, and how many experts' identities it held —
    oldest first."""
    require_kind(principal, PrincipalKind.OPERATOR)
    trail = CheckInReads(context.redis)
    reads = await trail.entries(evaluation_id=evaluation_id, venue_id=venue_id)
    return [CheckInReadPublic(**asdict(read)) for read in reads]


@router.get(
    "/{venue_id}/check-in",
    response_model=list[CheckInExpert],
    summary="The experts evaluating at the venue, masked identities: for its staff, on the day",
    responses={403: {"model": ErrorBody, "description": "not the venue's own staff"}},
)
async def check_in_list(
    venue_id: str,
    principal: CurrentPrincipal,
    context: Context,
    evaluation_id: str = Query(description="the evaluation sitting at this venue"),
) -> list[CheckInExpert]:
    """The experts evaluating at this venue, for its own staff on the day only: a partner's
    venue to that partner's key, a host venue (主场) to the trading centre or its sub-centre for
    the venue's region — not to a department merely covering the region, nor to operators.
    Names are shown; ID numbers and phones masked (370102********012X, 139****5678). Every
    list shown is recorded (GET /v1/venues/check-in-reads) before it is sent."""
    entry = _venue_or_404(venue_id)
    require_venue_staff(principal, entry.venue)
    state = await evaluation_or_404(context, evaluation_id)
    # Only a committee that is to sit is shown: a cancelled evaluation's (trade terminated)
    # stays sealed, its experts are not coming, and the venue has no one to check in.
    if state.status != "scheduled":
        raise ApiError(
            409,
            "not_scheduled",
            f"Evaluation {evaluation_id} is {state.status}, not scheduled: there is no one to "
            "check in, and its committee's identities stay sealed",
        )
    today = datetime.now(SHANGHAI).date()
    if state.slot is None or state.slot.day != today:
        raise ApiError(
            409,
            "not_check_in_day",
            f"Identities are shown only on the day of the evaluation "
            f"({state.slot.day.isoformat() if state.slot else 'not scheduled'}); today is "
            f"{today.isoformat()} (Asia/Shanghai)",
        )
    here = [m for m in state.members if m.assignment.venue_id == venue_id]
    identities = await context.registry.reveal([m.assignment.expert_id for m in here])
    listed = [
        CheckInExpert(
            expert_pseudonym=m.pseudonym,
            name=identities[m.assignment.expert_id].name,
            phone_masked=masked_phone(identities[m.assignment.expert_id].phone),
            id_number_masked=masked_id_number(identities[m.assignment.expert_id].id_number),
            specialty_code=m.assignment.specialty_code,
        )
        for m in here
        if m.assignment.expert_id in identities
    ]
    # Recorded before it is sent: a read the trail cannot hold is not served.
    await CheckInReads(context.redis).record(
        principal, evaluation_id=evaluation_id, venue_id=venue_id, identities=len(listed)
    )
    return listed
