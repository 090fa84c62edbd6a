"""Manage API keys: ``python -m services.platform_core.auth.cli issue|list|rotate|revoke``.

The key is printed once at issue (and at rotation, the successor); only its HMAC is stored.
``--expires-in-days`` ends a key on its own; ``rotate`` issues a key's successor for the same
principal and ends the old key after ``--overlap-hours``, so its holder can switch over.
A department key's ``--code`` and ``--regions``, and a partner key's ``--code``, must be in the
reference data the services load (``departments.json``, ``regions.json``, ``venues.json``, or
those under ``PRT_REFERENCE_DATA_DIR``): a key for a department no push is routed to, or for a
region no project can be in, would authenticate and then act for nothing. A problem with the
settings or Redis is one line on stderr and exit 2, not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.platform_core.auth.api_keys import (
    ApiKeyStore,
    AuthenticationError,
    keys_ending_between,
)
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.errors import SettingsError
from services.platform_core.reference_data import department_names, load_json
from services.platform_core.reference_data import regions as known_regions
from services.platform_core.settings import get_settings


def principal_problem(kind: PrincipalKind, code: str, region_codes: frozenset[str]) -> str | None:
    """Why the reference data has no such principal (None: it has): a department's code and
    regions, a partner's code. Operators are people, named by an id of the office's choosing."""
    if kind is PrincipalKind.DEPARTMENT:
        if code not in department_names():
            return (
                f"no department {code!r} in departments.json (its departments and district "
                "branches)"
            )
        unknown = sorted(region_codes - known_regions().keys())
        if unknown:
            return f"no region {', '.join(unknown)} in regions.json"
        return None
    if region_codes:
        return f"--regions is for department keys; a {kind.value} key acts for no region"
    if kind is PrincipalKind.PARTNER:
        partner_codes = {entry["code"] for entry in load_json("venues.json")["partners"]}
        if code not in partner_codes:
            return f"no partner {code!r} in venues.json"
    return None


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    pepper = settings.secret("api_key_pepper")
    try:
        redis = Redis.from_url(settings.redis_url)
    except ValueError as exc:  # not a redis://, rediss:// or unix:// URL
        raise SettingsError(f"PRT_REDIS_URL: {exc}") from exc
    store = ApiKeyStore(redis, pepper)
    try:
        if args.command == "issue":
            regions = frozenset(filter(None, (args.regions or "").split(",")))
            problem = principal_problem(PrincipalKind(args.kind), args.code, regions)
            if problem is not None:
                print(f"not issued: {problem}", file=sys.stderr)
                return 2
            issued = await store.issue(
                PrincipalKind(args.kind),
                args.code,
                args.name,
                regions,
                args.backfill,
                expires_at=_expiry(args.expires_in_days),
            )
            print(issued.key)
            print(
                f"issued key {issued.principal.key_id} for {args.kind} {args.code}"
                + _until(args.expires_in_days),
                file=sys.stderr,
            )
        elif args.command == "list":
            listed: Sequence[Mapping[str, object]] = await store.list_keys()
            if args.ending_within_days is not None:
                now = datetime.now(UTC)
                ahead = now + timedelta(days=args.ending_within_days)
                listed = keys_ending_between(listed, now, ahead)
            for entry in listed:
                print(json.dumps(entry, ensure_ascii=False))
        elif args.command == "rotate":
            try:
                successor = await store.rotate(
                    args.key_id,
                    overlap=timedelta(hours=args.overlap_hours),
                    expires_at=_expiry(args.expires_in_days),
                )
            except KeyError:
                print(f"no key {args.key_id}", file=sys.stderr)
                return 1
            except AuthenticationError as exc:
                print(f"not rotated: {exc}", file=sys.stderr)
                return 1
            print(successor.key)
            print(
                f"issued key {successor.principal.key_id} to replace {args.key_id}"
                + _until(args.expires_in_days)
                + f"; {args.key_id} ends in {args.overlap_hours:g} h",
                file=sys.stderr,
            )
        elif args.command == "revoke":
            if not await store.revoke(args.key_id):
                print(f"no key {args.key_id}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}", file=sys.stderr)
        return 0
    finally:
        await redis.aclose()


def _expiry(days: float | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) + timedelta(days=days)


def _until(days: float | None) -> str:
    return "" if days is None else f", valid {days:g} days"


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue", help="issue a key and print it once")
    issue.add_argument("--kind", choices=[k.value for k in PrincipalKind], required=True)
    issue.add_argument("--code", required=True, help="department code, partner code or operator id")
    issue.add_argument("--name", required=True)
    issue.add_argument("--regions", help="comma-separated region codes a department acts for")
    issue.add_argument(
        "--backfill",
        action="store_true",
        help="may state occurred_at for historical records (migrations, the demo half-year)",
    )
    issue.add_argument(
        "--expires-in-days",
        type=_positive,
        help="end the key this many days from now (default: it lasts until revoked)",
    )
    listing = commands.add_parser(
        "list", help="list keys with their status: active, expired, revoked (never secrets)"
    )
    listing.add_argument(
        "--ending-within-days",
        type=_positive,
        help="only the active keys that end within this many days: those to rotate",
    )
    rotate = commands.add_parser(
        "rotate", help="issue a key's successor (printed once) and end the old key later"
    )
    rotate.add_argument("key_id")
    rotate.add_argument(
        "--overlap-hours",
        type=_positive,
        default=24.0,
        help="how long the old key keeps working, for its holder to switch (default 24)",
    )
    rotate.add_argument(
        "--expires-in-days", type=_positive, help="end the successor this many days from now"
    )
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except SettingsError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except (RedisError, OSError) as exc:
        print(f"cannot reach Redis at PRT_REDIS_URL: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
