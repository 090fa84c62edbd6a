"""Manage API keys: ``python -m services.platform_core.auth.cli issue|list|revoke``.

The key is printed once at issue; only its HMAC is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import get_settings


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.secret("api_key_pepper"))
    try:
        if args.command == "issue":
            regions = frozenset(filter(None, (args.regions or "").split(",")))
            issued = await store.issue(
                PrincipalKind(args.kind), args.code, args.name, regions, args.backfill
            )
            print(issued.key)
            print(
                f"issued key {issued.principal.key_id} for {args.kind} {args.code}", file=sys.stderr
            )
        elif args.command == "list":
            for entry in await store.list_keys():
                print(json.dumps(entry, ensure_ascii=False))
        elif args.command == "revoke":
            if not await store.revoke(args.key_id):
                print(f"no key {args.key_id}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}", file=sys.stderr)
        return 0
    finally:
        await redis.aclose()


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
    commands.add_parser("list", help="list keys (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
