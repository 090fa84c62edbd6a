"""Review and re-drive a consumer's dead letters (see dead_letter_review.py):

    python -m services.platform_core.kafka.dead_letter_cli list reporting.aggregator [--all]
    python -m services.platform_core.kafka.dead_letter_cli redrive reporting.aggregator \\
        [--through OFFSET] [--skip OFFSET ...] [--dry-run] [--overwrite-newer]

``list`` prints one JSON line per letter not yet re-driven (``--all``: every letter kept):
where it came from, the event's type and id, why it was refused — never the record's value.
``redrive`` sends them back to their topics and prints what it did, with a warning (also on
stderr) for each letter whose key has later records on its topic: it goes back after them. Onto
a compacted topic such a letter is refused (compaction would keep it and delete the newer
record); ``--overwrite-newer`` sends it all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from services.platform_core.kafka.dead_letter_review import RedriveRefused, redrive, review
from services.platform_core.settings import get_settings


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        if args.command == "list":
            found = await review(settings, args.consumer, all_letters=args.all)
            for letter in found.letters:
                redriven = letter.offset < found.redriven_through
                print(json.dumps(letter.summary(redriven), ensure_ascii=False))
            print(
                f"{found.topic}: {len(found.pending)} letter(s) not yet re-driven"
                + (f", {len(found.letters)} shown" if args.all else ""),
                file=sys.stderr,
            )
        else:
            outcome = await redrive(
                settings,
                args.consumer,
                through=args.through,
                skip=args.skip,
                dry_run=args.dry_run,
                overwrite_newer=args.overwrite_newer,
            )
            for warning in outcome.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(
                json.dumps(
                    {
                        "consumer": outcome.consumer,
                        "dry_run": outcome.dry_run,
                        "redriven": [
                            {"offset": letter.offset, "to": letter.source_topic}
                            for letter in outcome.redriven
                        ],
                        "skipped": [letter.offset for letter in outcome.skipped],
                        "redriven_through": outcome.redriven_through,
                        "warnings": list(outcome.warnings),
                    },
                    ensure_ascii=False,
                )
            )
    except RedriveRefused as refused:
        print(refused, file=sys.stderr)
        return 1
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m services.platform_core.kafka.dead_letter_cli",
        description="Review and re-drive a stream consumer's dead letters.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the letters not yet re-driven")
    listing.add_argument("consumer", help="e.g. reporting.aggregator, intake.projector")
    listing.add_argument("--all", action="store_true", help="every letter the topic keeps")
    sending = commands.add_parser("redrive", help="send letters back to their topics")
    sending.add_argument("consumer")
    sending.add_argument("--through", type=int, help="stop after this dead-letter offset")
    sending.add_argument(
        "--skip", type=int, action="append", default=[], help="pass over this offset"
    )
    sending.add_argument("--dry-run", action="store_true", help="say what would be sent")
    sending.add_argument(
        "--overwrite-newer",
        action="store_true",
        help="re-drive onto a compacted topic even when the letter's key has a later record "
        "there (compaction then keeps the older letter and deletes the newer record)",
    )
    return parser.parse_args(argv)


def main() -> None:
    sys.exit(asyncio.run(_run(parse())))


if __name__ == "__main__":
    main()
