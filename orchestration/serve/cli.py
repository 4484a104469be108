"""`commerce-analytics serve` and `commerce-analytics access add|list|revoke` (registered in orchestration/cli.py)."""

from __future__ import annotations

import argparse
import sys

from orchestration.settings import DataPaths


def cmd_serve(args: argparse.Namespace, paths: DataPaths) -> int:
    import uvicorn

    from orchestration.serve.app import create_app
    from orchestration.serve.pages import vega_bundle

    vega_bundle()  # bundle the chart library before the first page asks for it
    print(f"serving {paths.root / 'marts.duckdb'} on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(create_app(paths), host=args.host, port=args.port, log_level="warning", server_header=False)
    return 0


def cmd_access_add(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.serve import access

    grant, token = access.add(paths, args.name, args.role, args.stores.split(","))
    print(f"token id {grant.token_id} ({grant.role}, stores {','.join(grant.stores)}); the token, shown once:")
    print(token)
    return 0


def cmd_access_list(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.serve import access

    print(f"{'token id':<14}{'name':<20}{'role':<9}{'stores':<20}{'created':<27}revoked")
    for g in access.grants(paths):
        stores = ",".join(g.stores)
        print(f"{g.token_id:<14}{g.name:<20}{g.role:<9}{stores:<20}{g.created_at[:26]:<27}{g.revoked_at or ''}")
    return 0


def cmd_access_revoke(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.serve import access

    grant = access.revoke(paths, args.token_id)
    print(f"revoked {grant.token_id} ({grant.name}) at {grant.revoked_at}")
    return 0


def add_serve_commands(commands) -> None:
    serve = commands.add_parser("serve", help="serve the read API and the dashboards over the published marts")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    serve.set_defaults(func=cmd_serve)

    access = commands.add_parser("access", help="tokens of the API and dashboards: add, list, revoke")
    actions = access.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a token (printed once) with a role and stores")
    add.add_argument("name", help="who or what holds the token")
    add.add_argument("--role", required=True, choices=["viewer", "analyst", "admin"])
    add.add_argument("--stores", required=True, help="comma-separated store ids, or * for all")
    add.set_defaults(func=cmd_access_add)
    actions.add_parser("list", help="every token: id, role, stores, created, revoked").set_defaults(
        func=cmd_access_list
    )
    revoke = actions.add_parser("revoke", help="revoke a token at once (its sessions end too)")
    revoke.add_argument("token_id")
    revoke.set_defaults(func=cmd_access_revoke)
