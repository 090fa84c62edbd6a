"""What each reader is sent of the one shared dashboard snapshot: an operator every open push,
a department only those addressed to it; how many are open, beyond the board's 100 rows; and
万元 formatted as the bulletin formats them."""

from __future__ import annotations

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.reporting.dashboard import BOARD_LIMIT, as_seen_by, snapshot
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Labels
from tests.unit.reporting.factories import (
    completed,
    fold,
    ledger_read_model,
    registered,
    routed,
)

OPERATOR = Principal("k-op", PrincipalKind.OPERATOR, "op-duty", "联席办值班员")
ZJJ = Principal("k-zjj", PrincipalKind.DEPARTMENT, "ZJJ", "市住房城乡建设局", frozenset({"370100"}))
CZJ = Principal("k-czj", PrincipalKind.DEPARTMENT, "CZJ", "市财政局", frozenset({"370100"}))


def _open_pushes(zjj: int, jtj: int) -> list[facts.PushRoutedFact]:
    return [
        routed(f"{department}-{n}", "2023-03-01 09:00", department=department)
        for department, count in (("ZJJ", zjj), ("JTJ", jtj))
        for n in range(count)
    ]


async def test_a_department_is_sent_only_the_pushes_addressed_to_it() -> None:
    model = ledger_read_model(fold(*_open_pushes(zjj=3, jtj=4)))
    shared = await snapshot(model, Labels(), None)
    mine = as_seen_by(shared, ZJJ)
    assert {entry["department"] for entry in mine["push_board"]} == {"ZJJ"}
    assert mine["open_pushes"] == len(mine["push_board"]) == 3
    nothing = as_seen_by(shared, CZJ)
    assert (nothing["open_pushes"], nothing["push_board"]) == (0, [])
    everything = as_seen_by(shared, OPERATOR)
    assert everything["open_pushes"] == len(everything["push_board"]) == 7
    # The shared snapshot is not changed by one reader's view: the next is sent its own.
    assert len(shared["push_board"]) == 7
    assert mine["totals"] == everything["totals"]


async def test_the_open_push_count_goes_beyond_the_boards_rows() -> None:
    model = ledger_read_model(fold(*_open_pushes(zjj=BOARD_LIMIT + 20, jtj=10)))
    shared = await snapshot(model, Labels(), None)
    everything = as_seen_by(shared, OPERATOR)
    assert len(everything["push_board"]) == BOARD_LIMIT
    assert everything["open_pushes"] == BOARD_LIMIT + 30
    mine = as_seen_by(shared, ZJJ)
    assert (len(mine["push_board"]), mine["open_pushes"]) == (BOARD_LIMIT, BOARD_LIMIT + 20)


async def test_wan_yuan_are_sent_as_the_bulletin_prints_them() -> None:
    ledger = fold(
        registered("p1", "2023-02-01 09:00", budget=1_005_000),
        completed("p1", "2023-03-01 09:00", amount=12_345_675_000),
    )
    shared = await snapshot(ledger_read_model(ledger), Labels(), "2023-H1")
    totals = as_seen_by(shared, OPERATOR)["totals"]
    # A float's toFixed(2) on 1.005 gives "1.00"; the bulletin rounds half up on exact decimals.
    assert totals["registered_amount_wan_yuan"] == "1.01"
    assert totals["deal_amount_on_platform_wan_yuan"] == "12,345.68"
