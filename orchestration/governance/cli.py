"""The governance commands: `purge`, `erase` and `gdpr-export` (registered in orchestration/cli.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.settings import DataPaths


def cmd_purge(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.dbt_project import dbt_project
    from orchestration.governance.purge import purge

    as_of = args.as_of or datetime.now(UTC).date()
    plan = purge(paths, as_of, dbt_project.manifest_path, dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    for item in plan:
        print(f"{verb} {item.rows:>9,} {item.pii:<7} {item.place:<10} {item.target} {item.column} (<{item.cutoff})")
    print(f"{verb} {sum(i.rows for i in plan):,} values in {len({i.target for i in plan})} files and tables")
    return 0


def cmd_erase(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.governance.erase import erase, file_request
    from orchestration.governance.subject import find_subject
    from orchestration.progress import Progress

    if args.file_only:
        find_subject(paths, args.store, args.customer_id)  # an unknown customer is an error now, not in the run
        print(f"filed: run customer_erasure with config {{store_id: {args.store}, customer_key: ", end="")
        print(f"{file_request(paths, args.store, args.customer_id)}}}")
        return 0
    progress = Progress("erase", total=0)
    try:
        removed = erase(paths, args.store, args.customer_id, progress)
    finally:
        progress.close()
    print(", ".join(f"{place}: {rows:,} rows removed" for place, rows in removed.items()))
    return 0


def cmd_gdpr_export(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.governance.export import SECTIONS, export_subject, to_json
    from orchestration.serve.audit_trail import cli_access

    # The audit names the store only: the customer's id is the personal value being exported.
    with cli_access(paths, "gdpr-export", [args.store]) as access:
        document = export_subject(paths, args.store, args.customer_id)
        access.rows_returned = sum(len(document[s]) for s in (*SECTIONS, "quarantined_rows"))
    text = to_json(document)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


def _add_subject_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="store (tenant) of the customer")
    parser.add_argument("--customer-id", required=True, help="the customer's id in the source systems")


def add_governance_commands(commands) -> None:
    purge = commands.add_parser("purge", help="null every value past its PII class's retention (raw, warehouse)")
    purge.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    purge.add_argument("--as-of", type=date.fromisoformat, help="purge as on this date (default today, UTC)")
    purge.set_defaults(func=cmd_purge)

    erase = commands.add_parser(
        "erase", help="erase a customer and their devices everywhere, then rebuild (resumes one that stopped)"
    )
    _add_subject_options(erase)
    erase.add_argument(
        "--file-only", action="store_true", help="file the request for the Dagster job customer_erasure, print its key"
    )
    erase.set_defaults(func=cmd_erase)

    export = commands.add_parser("gdpr-export", help="everything held on a customer, as one JSON document")
    _add_subject_options(export)
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_gdpr_export)
