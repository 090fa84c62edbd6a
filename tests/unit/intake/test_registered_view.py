"""The API answers a registration with a view it builds from the domain object, and renders it
by hand; both must equal the slower, authoritative paths: the view the stream worker folds from
the ProjectRegistered event, and ProjectPublic's own JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.intake.domain.lifecycle import ProjectState
from services.intake.domain.registration import (
    BidSection,
    Deficiency,
    Organisation,
    ProjectRegistration,
    registered_view,
)
from services.intake.domain.tender_obligation import TenderObligation
from services.intake.event_codec import registration_to_event, view_from_registered
from services.intake.http_api.projects import public_view
from services.intake.http_api.schemas import ProjectPublic
from services.intake.read_model import view_to_json
from tests.unit.intake.test_registration import GOOD

VARIANTS = {
    "plain": GOOD,
    "microseconds": replace(GOOD, registered_at=datetime(2023, 5, 4, 2, 0, 0, 1, tzinfo=UTC)),
    "容缺 with deadline": replace(
        GOOD,
        deficiency=Deficiency(("建设工程规划许可证", "施工图审查合格书"), date(2023, 5, 18)),
        commitment_pledged=True,
    ),
    "容缺 with deadline and working days": replace(
        GOOD, deficiency=Deficiency(("建设工程规划许可证",), date(2023, 5, 11), 5)
    ),
    "容缺 pending (calendar unpublished)": replace(
        GOOD, deficiency=Deficiency(("建设工程规划许可证",), None, 5)
    ),
    "agency, key project, green channel": replace(
        GOOD,
        agency=Organisation("山东泉城招标代理有限公司", "91110000600037341L"),
        key_project=True,
        green_channel=True,
        tender_project_code="Z3701130000000001",
    ),
    "three bid sections": replace(
        GOOD,
        bid_sections=(
            BidSection("001", "施工", 60),
            BidSection("002", "监理", 30),
            BidSection("003", "设备", 10),
        ),
    ),
    "依法必须招标 declared": replace(GOOD, tender_obligation=TenderObligation(True, derived=False)),
    "not required, derived": replace(GOOD, tender_obligation=TenderObligation(False, derived=True)),
    "stated in +08:00": replace(
        GOOD, registered_at=datetime(2023, 5, 4, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    ),
}


@pytest.mark.parametrize("registration", VARIANTS.values(), ids=VARIANTS.keys())
def test_the_apis_view_is_the_workers_view(registration: ProjectRegistration) -> None:
    from_event = view_from_registered(registration_to_event(registration))
    assert registered_view(registration) == from_event
    assert view_to_json(registered_view(registration)) == view_to_json(from_event)


@pytest.mark.parametrize("registration", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("state", [ProjectState.REGISTERED, ProjectState.AWARDED])
def test_the_hand_rendered_view_is_project_publics_json(
    registration: ProjectRegistration, state: ProjectState
) -> None:
    view = replace(view_from_registered(registration_to_event(registration)), state=state)
    rendered = public_view(view)
    assert ProjectPublic.model_validate(rendered).model_dump(mode="json") == rendered
