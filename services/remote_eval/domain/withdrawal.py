"""Seats withdrawn under bookings: which evaluations lose their seats when a venue's owner
offers fewer seats in a slot than evaluations booked there.

The API refuses such an offer (409 seats_booked), but a booking the scheduler makes between the
API's check and the publication, or a publication re-driven or replayed, still brings one. The
scheduler then withdraws the seats of just enough evaluations for the rest to fit, each as if
the venue had declined it (services.remote_eval.scheduler). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.remote_eval.domain.model import VenueRole


@dataclass(frozen=True)
class Booking:
    """One evaluation's seats at the venue in the slot."""

    evaluation_id: str
    seats: int
    role: VenueRole  # the venue's role in the evaluation
    # Whether its seats can still be withdrawn: the evaluation is scheduled with its committee
    # sealed, and its seats there were not withdrawn before (a re-plan that found no other
    # venue left them booked). Those that cannot still hold their seats.
    withdrawable: bool = True


def bookings_to_withdraw(seats_offered: int, bookings: Sequence[Booking]) -> list[Booking]:
    """The bookings to withdraw so that those left fit in ``seats_offered``, in the order to
    withdraw them: secondary venues' before a main venue's (a secondary venue's experts can be
    re-planned at another partner's; a main venue cannot move, and its evaluation fails), and
    within each the most recently requested evaluation first (evaluation ids are time-ordered,
    UUIDv7: first come, first served). Whole bookings: an evaluation keeps all its seats at the
    venue or none, as when a venue declines. Empty when the bookings fit; fewer than needed when
    those that cannot be withdrawn alone exceed the offer."""
    excess = sum(b.seats for b in bookings) - seats_offered
    if excess <= 0:
        return []
    latest_first = sorted(
        (b for b in bookings if b.withdrawable), key=lambda b: b.evaluation_id, reverse=True
    )
    ordered = sorted(latest_first, key=lambda b: b.role is VenueRole.MAIN)  # stable
    chosen: list[Booking] = []
    for booking in ordered:
        if excess <= 0:
            break
        chosen.append(booking)
        excess -= booking.seats
    return chosen
