"""What the procurement-law review found in the collusion rules, pure: one report per bidder
group (not per shared component), an IP or CPU id never enough alone, no deposit paid no
shared-account sign, and the law cited by the project's category (政府采购 is not 招标投标法)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from services.abnormal_push.domain.detection.findings import (
    FiledSign,
    plan_filings,
    report_from_finding,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Finding,
    ProjectFacts,
    RuleDefinition,
)
from services.abnormal_push.domain.detection.rules import (
    same_deposit_account,
    same_fingerprint,
    same_project_manager,
    shared_address_or_contact,
)
from services.abnormal_push.domain.reports import Severity
from tests.unit.abnormal_push.factories import PROJECT, T0, bid, org

PUBLIC_IP = "58.56.1.2"
COMMON_CPU = "BFEBFBFF000906EA"  # a Windows ProcessorId: one per CPU model, not per machine
GOVERNMENT_PROCUREMENT = replace(PROJECT, category="GOVERNMENT_PROCUREMENT")


def _submitted(*bids: Bid, project: ProjectFacts = PROJECT) -> BidSubmittedTrigger:
    return BidSubmittedTrigger("e-trigger", T0, project, "S1", bids)


def _findings(rule: object, *bids: Bid, project: ProjectFacts = PROJECT) -> list[Finding]:
    outcomes = rule.evaluate(_submitted(*bids, project=project))  # type: ignore[attr-defined]
    return [o for o in outcomes if isinstance(o, Finding)]


def _one_machine(serial: int) -> Bid:
    """A bid made on the machine bidder 1 and 2 share: all five components the same."""
    return bid(
        serial,
        cpu=COMMON_CPU,
        disk="WD-WCC4N0ABCDEF",
        mac="3C-7C-3F-1A-2B-77",
        ip=PUBLIC_IP,
        md5="9E107D9D372BB6826BD81D3542A419D6",
    )


# --- 1. one bidder group, one report ---------------------------------------------------------


def test_a_pair_sharing_five_components_is_one_finding_with_every_component() -> None:
    (finding,) = _findings(same_fingerprint.RULE, _one_machine(1), _one_machine(2), bid(3))
    assert {s.credit_code for s in finding.subjects} == {org(1).credit_code, org(2).credit_code}
    assert dict(finding.evidence_values) == {
        "disk_serial": "WD-WCC4N0ABCDEF",
        "mac_address": "3C:7C:3F:1A:2B:77",
        "document_md5": "9e107d9d372bb6826bd81d3542a419d6",
        "cpu_id": COMMON_CPU,  # supporting evidence, reported beside the decisive ones
        "ip_address": PUBLIC_IP,
    }
    assert finding.open_to_joiners
    # Known by each decisive value (a later bidder sharing any one joins it), never the CPU/IP.
    assert [key.rsplit("|", 1)[1].split("=")[0] for key in finding.sign_keys] == [
        "disk_serial",
        "document_md5",
        "mac_address",
    ]


def test_the_group_report_id_does_not_depend_on_the_order_the_bids_came_in() -> None:
    bids = (_one_machine(1), _one_machine(2), bid(3))
    ids = {
        _findings(same_fingerprint.RULE, *order)[0].report_id
        for order in itertools.permutations(bids)
    }
    assert len(ids) == 1


def test_bidders_tied_through_different_components_are_one_group() -> None:
    a = bid(1, disk="WD-SHARED-1")
    b = bid(2, disk="WD-SHARED-1", mac="AA:BB:CC:DD:EE:02")
    c = bid(3, mac="AA:BB:CC:DD:EE:02")
    (finding,) = _findings(same_fingerprint.RULE, a, b, c, bid(4))
    assert len(finding.subjects) == 3
    assert {name for name, _ in finding.evidence_values} == {"disk_serial", "mac_address"}


def test_a_bidder_joining_the_group_on_one_of_its_values_files_no_new_report() -> None:
    (first,) = plan_filings(_findings(same_fingerprint.RULE, _one_machine(1), _one_machine(2)), {})
    assert first.files_report and first.sign is not None
    filed = dict.fromkeys(first.sign.keys, first.sign)
    third = bid(3, mac="3C:7C:3F:1A:2B:77")  # shares the MAC only
    (again,) = plan_filings(
        _findings(same_fingerprint.RULE, _one_machine(1), _one_machine(2), third), filed
    )
    assert (again.files_report, again.report_id) == (False, first.report_id)
    assert [s.credit_code for s in again.joiners] == [org(3).credit_code]


def test_a_bid_bridging_two_filed_groups_reports_only_its_own_bidder() -> None:
    """A and B share a disk, C and E a MAC, each pair filed; F shares both: one group now, and
    only F is new — C and E were reported in their own group (diff review: they were reported
    again as joiners of the first)."""
    a, b = bid(1, disk="WD-SHARED-DISK"), bid(2, disk="WD-SHARED-DISK")
    c, e = bid(3, mac="AA:BB:CC:00:11:22"), bid(4, mac="AA:BB:CC:00:11:22")
    filed: dict[str, FiledSign] = {}
    for pair in ((a, b), (c, e)):
        (filing,) = plan_filings(_findings(same_fingerprint.RULE, *pair), filed)
        assert filing.files_report and filing.sign is not None
        filed |= dict.fromkeys(filing.sign.keys, filing.sign)
    f = bid(5, disk="WD-SHARED-DISK", mac="AA:BB:CC:00:11:22")
    (bridged,) = plan_filings(_findings(same_fingerprint.RULE, a, b, c, e, f), filed)
    assert not bridged.files_report
    assert [s.credit_code for s in bridged.joiners] == [org(5).credit_code]


def _legacy_findings(bids: Sequence[Bid]) -> list[Finding]:
    """The findings the rule made before this fix: one per shared component, each its own
    sign (its key: rule|project|section|component=value)."""
    (group,) = _findings(same_fingerprint.RULE, *bids)
    return [
        replace(group, evidence_values=((name, value),), sign_values=())
        for name, value in group.evidence_values
    ]


def test_signs_filed_per_component_before_the_fix_are_found_again_and_file_nothing() -> None:
    """A pair reported five times under the old ids: after the deploy, a later bid on the
    section re-evaluates it as one group, which matches the old signs by its decisive values
    and files nothing new (a rebuild's replay files nothing either: the new id is not on the
    log; see the integration test)."""
    pair = (_one_machine(1), _one_machine(2))
    legacy = plan_filings(_legacy_findings(pair), {})
    assert len({f.report_id for f in legacy}) == 5
    filed: dict[str, FiledSign] = {}
    for filing in legacy:
        assert filing.sign is not None and filing.sign.keys == (filing.sign.sign_key,)
        filed[filing.sign.sign_key] = filing.sign
    (now,) = plan_filings(_findings(same_fingerprint.RULE, *pair, bid(3)), filed)
    assert not now.files_report
    assert now.report_id in {f.report_id for f in legacy}


# --- 2. weak components never enough ---------------------------------------------------------


def test_cpu_id_and_a_private_ip_alone_are_no_finding() -> None:
    a = bid(1, cpu=COMMON_CPU, ip="192.168.1.100")
    b = bid(2, cpu=COMMON_CPU, ip="192.168.1.100")
    assert _findings(same_fingerprint.RULE, a, b) == []


def test_a_cpu_id_and_a_public_ip_alone_are_no_finding() -> None:
    a = bid(1, cpu=COMMON_CPU, ip=PUBLIC_IP)
    b = bid(2, cpu=COMMON_CPU, ip=PUBLIC_IP)
    assert _findings(same_fingerprint.RULE, a, b) == []


def test_private_and_reserved_ips_are_not_even_supporting_evidence() -> None:
    for address in ("192.168.1.100", "10.0.0.5", "172.16.3.4", "100.64.0.1", "127.0.0.1"):
        pair = [bid(n, disk="WD-SHARED-9", ip=address) for n in (1, 2)]
        (finding,) = _findings(same_fingerprint.RULE, *pair)
        assert dict(finding.evidence_values) == {"disk_serial": "WD-SHARED-9"}, address


def test_the_bid_hall_networks_in_the_rule_data_never_count() -> None:
    definition = same_fingerprint.RULE.definition
    hall = same_fingerprint.SameFingerprint(
        replace(
            definition,
            parameters={**definition.parameters, "bid_hall_networks": ["58.56.1.0/28"]},
        )
    )
    pair = [bid(n, disk="WD-SHARED-9", ip=PUBLIC_IP) for n in (1, 2)]
    (finding,) = _findings(hall, *pair)
    assert dict(finding.evidence_values) == {"disk_serial": "WD-SHARED-9"}
    (elsewhere,) = _findings(same_fingerprint.RULE, *pair)
    assert ("ip_address", PUBLIC_IP) in elsewhere.evidence_values


def test_the_rule_data_says_which_components_are_decisive() -> None:
    parameters = same_fingerprint.RULE.definition.parameters
    assert set(parameters["decisive_components"]) == {"disk_serial", "mac_address", "document_md5"}
    assert set(parameters["supporting_components"]) == {"cpu_id", "ip_address"}
    assert same_fingerprint.RULE.definition.severity is Severity.HIGH


# --- 3. no deposit paid, no shared account ---------------------------------------------------


def _deposit(serial: int, account: str, fen: int | None) -> Bid:
    return replace(bid(serial, account=account), deposit_fen=fen)


def test_waived_deposits_take_no_part_in_the_shared_account_rule() -> None:
    waived = [_deposit(n, "免缴", 0) for n in (1, 2, 3)]
    assert _findings(same_deposit_account.RULE, *waived) == []
    assert _findings(same_deposit_account.RULE, *[_deposit(n, "", 0) for n in (1, 2)]) == []


def test_an_account_number_is_a_transfer_whatever_the_amount_says() -> None:
    """A bid's deposit_fen was 0 whenever a client left it out (every bid before it was asked
    for), with a real account paid from; and a bid stored before the amount was kept has none.
    The account decides, so the same bid is judged alike live and on a replay (diff review)."""
    numbered = [_deposit(n, "6222 0000 1111", 0) for n in (1, 2)]
    assert len(_findings(same_deposit_account.RULE, *numbered)) == 1


def test_an_account_field_without_a_number_is_not_an_account() -> None:
    assert (
        _findings(
            same_deposit_account.RULE, _deposit(1, "免缴", 100_00), _deposit(2, "免缴", 100_00)
        )
        == []
    )


def test_deposits_paid_from_one_account_still_fire() -> None:
    (finding,) = _findings(
        same_deposit_account.RULE,
        _deposit(1, "6222-0000-1111", 100_000_00),
        _deposit(2, "6222 0000 1111", 100_000_00),
        _deposit(3, "6222 0000 2222", 100_000_00),
    )
    assert dict(finding.evidence_values) == {"deposit_account": "622200001111"}
    # A bid stored before detection kept the amount is taken as paid.
    (stored,) = _findings(
        same_deposit_account.RULE,
        _deposit(1, "6222 0000 1111", None),
        _deposit(2, "6222 0000 1111", 100_000_00),
    )
    assert (
        stored.report_id
        == _findings(
            same_deposit_account.RULE,
            _deposit(1, "6222 0000 1111", 100_000_00),
            _deposit(2, "6222 0000 1111", 100_000_00),
        )[0].report_id
    )


# --- 4. the law by the project's category ----------------------------------------------------


def test_government_procurement_collusion_cites_its_own_law() -> None:
    pair = [_one_machine(1), _one_machine(2)]
    (gp,) = _findings(same_fingerprint.RULE, *pair, project=GOVERNMENT_PROCUREMENT)
    assert "财政部令第87号" in gp.citation.legal_basis
    assert "第三十七条 第(一)项" in gp.citation.legal_basis
    assert "政府采购法实施条例 第七十四条" in gp.citation.legal_basis
    assert "招标投标法" not in gp.citation.legal_basis
    report = report_from_finding(gp, "JYZX", T0)
    assert report.detection is not None
    assert report.detection.legal_basis == gp.citation.legal_basis
    assert report.severity is Severity.HIGH

    (works,) = _findings(same_fingerprint.RULE, *pair)  # a HOUSING tender
    assert "招标投标法实施条例 第四十条 第(一)项" in works.citation.legal_basis
    unknown = replace(PROJECT, category="")  # registration not seen: the tender law
    (unseen,) = _findings(same_fingerprint.RULE, *pair, project=unknown)
    assert unseen.citation == works.citation
    # The citation is not part of the report's identity: same facts, same id.
    assert gp.report_id == works.report_id


def test_every_deemed_collusion_rule_holds_both_citations() -> None:
    for rule in (same_fingerprint, same_deposit_account, same_project_manager):
        definition: RuleDefinition = rule.RULE.definition
        assert "招标投标法实施条例 第四十条" in definition.legal_basis
        gp = definition.citation_for("GOVERNMENT_PROCUREMENT")
        assert "第三十七条" in gp.legal_basis and "第七十四条" in gp.legal_basis


def _contact(serial: int, phone: str = "", address: str = "") -> Bid:
    return replace(bid(serial), bidder_contact_phone=phone, bidder_address=address)


def test_a_shared_contact_in_government_procurement_is_deemed_collusion() -> None:
    pair = [_contact(n, phone="0531-88886666") for n in (1, 2)]
    (gp,) = _findings(shared_address_or_contact.RULE, *pair, project=GOVERNMENT_PROCUREMENT)
    assert gp.citation.severity is Severity.HIGH
    assert "第三十七条 第(三)项" in gp.citation.legal_basis
    (works,) = _findings(shared_address_or_contact.RULE, *pair)
    assert works.citation.severity is Severity.MEDIUM  # an OCP red flag in a works tender
    assert "招标投标法实施条例 第四十条" in works.citation.legal_basis
    # A shared address alone is no contact person: a red flag in procurement too.
    same_place = [_contact(n, address="济南市历下区经十路12345号") for n in (1, 2)]
    (address,) = _findings(
        shared_address_or_contact.RULE, *same_place, project=GOVERNMENT_PROCUREMENT
    )
    assert address.citation.severity is Severity.MEDIUM
    assert "政府采购法实施条例" in address.citation.legal_basis
