"""``make quarantine``: list the SES records the ingest path quarantined, and re-drive them after a fix.

    make quarantine                                   # per reason, the last 7 days
    make quarantine ARGS="list --day 2026-12-01 --reason invalid_event"
    make quarantine ARGS="show --day 2026-12-01 <sqs message id>"
    make quarantine ARGS="redrive --day 2026-12-01 --reason invalid_event"
    make quarantine ARGS="redrive --day 2026-12-01 --id <sqs message id> --id <...>"

It talks to the table named by TABLE_NAME and re-drives to the queue named by EVENTS_QUEUE_URL
(both printed by `make run` into .run/local.env for local mode; the stack's outputs name them in
AWS), with the usual AWS credentials. Re-driving is safe to repeat: the ingest path applies every
event at most once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from tracker import constants
from tracker.bootstrap.admin import quarantine_service
from tracker.domain.quarantine import QuarantinedRecord


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a day (yyyy-mm-dd): {text!r}") from error


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make quarantine ARGS=...", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    summary = commands.add_parser("summary", help="waiting records per day and reason (the default)")
    summary.add_argument("--days", type=int, default=7)
    listing = commands.add_parser("list", help="the records of one day")
    listing.add_argument("--day", type=_day, default=datetime.now(UTC).date())
    listing.add_argument("--reason")
    listing.add_argument("--all", action="store_true", help="re-driven ones too")
    show = commands.add_parser("show", help="one record with its body")
    show.add_argument("--day", type=_day, required=True)
    show.add_argument("source_id")
    redrive = commands.add_parser("redrive", help="send records back to the ingest path")
    redrive.add_argument("--day", type=_day, required=True)
    redrive.add_argument("--reason")
    redrive.add_argument("--id", dest="ids", action="append", help="an SQS message id (repeatable)")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["summary", *(argv or [])])
    return args


def _line(record: QuarantinedRecord) -> str:
    state = f"  re-driven {record.redriven_at:%Y-%m-%d %H:%M}" if record.redriven_at else ""
    return (
        f"{record.received_at:%H:%M:%S}  {record.source_id}  {record.reason:<20} {record.detail[:100]}{state}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    queue_url = os.environ.get(constants.ENV_EVENTS_QUEUE_URL, "")
    if args.command == "redrive" and not queue_url:
        print(f"set {constants.ENV_EVENTS_QUEUE_URL} to the SES events queue to re-drive to", file=sys.stderr)
        return 2
    service = quarantine_service(queue_url)
    if args.command == "summary":
        today = datetime.now(UTC).date()
        for offset in range(args.days):
            day = today - timedelta(days=offset)
            reasons = service.reasons(day)
            if reasons:
                print(f"{day}: " + ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items())))
        return 0
    if args.command == "list":
        records = service.records(args.day, args.reason, include_redriven=args.all)
        for record in records:
            print(_line(record))
        print(f"{len(records)} record(s) on {args.day}")
        return 0
    if args.command == "show":
        found = [r for r in service.records(args.day, include_redriven=True) if r.source_id == args.source_id]
        if not found:
            print(f"no quarantined record {args.source_id} on {args.day}", file=sys.stderr)
            return 1
        print(_line(found[0]), found[0].detail, found[0].body, sep="\n")
        return 0
    result = service.redrive(args.day, reason=args.reason, source_ids=set(args.ids) if args.ids else None)
    print(f"re-driven: {len(result.redriven)}; not queued (run again): {len(result.not_queued)}")
    return 1 if result.not_queued else 0


if __name__ == "__main__":
    sys.exit(main())
