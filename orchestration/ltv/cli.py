"""`commerce-analytics ltv`: fit the LTV model on any table of transactions and write predictions."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from orchestration.settings import DataPaths

from . import VARIANTS  # scipy and pandas load only when the command runs

OUTPUT_COLUMNS = [
    "customer_id",
    "transactions",
    "frequency",
    "recency_days",
    "age_days",
    "total_amount",
    "mean_repeat_value",
    "probability_alive",
    "predicted_purchases",
    "expected_average_value",
    "predicted_value",
]


def add_ltv_command(subparsers: argparse._SubParsersAction) -> None:
    ltv = subparsers.add_parser(
        "ltv",
        help="fit (M)BG/NBD + Gamma-Gamma on a CSV or Parquet of transactions and write per-customer predictions",
    )
    ltv.add_argument("--transactions", required=True, help="CSV or Parquet file (a glob works too)")
    ltv.add_argument("--output", default="ltv_predictions.csv", help="CSV or Parquet (default %(default)s)")
    ltv.add_argument("--customer-column", default="customer_id", help="default %(default)s")
    ltv.add_argument("--time-column", default="ordered_at", help="order timestamp; default %(default)s")
    ltv.add_argument("--amount-column", default="amount", help="order value; default %(default)s")
    ltv.add_argument("--order-column", help="order id: keep the last row of each (for re-exported extracts)")
    ltv.add_argument("--group-column", help="fit one model per value of this column (e.g. store_id)")
    ltv.add_argument("--as-of", help="end of observation, ISO timestamp (default: the last transaction)")
    ltv.add_argument("--horizon-months", type=float, default=12, help="prediction horizon (default %(default)s)")
    ltv.add_argument("--model", choices=VARIANTS, default=VARIANTS[0], help="purchase model (default %(default)s)")
    ltv.add_argument(
        "--per-day",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="count a customer's transactions of one calendar day (UTC) as one purchase of their summed value, "
        "as the published BG/NBD and Gamma-Gamma fits do (default: on; --no-per-day counts every row)",
    )
    ltv.set_defaults(func=cmd_ltv)


def _read(args: argparse.Namespace):
    import duckdb

    path = args.transactions.replace("'", "''")
    reader = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', auto_detect = true)"
    try:
        relation = duckdb.sql(f"select * from {reader}")
    except duckdb.Error as exc:  # a missing or unreadable file: one line, not a traceback
        raise ValueError(f"cannot read {args.transactions}: {str(exc).splitlines()[0]}") from None
    missing = {args.customer_column, args.time_column, args.amount_column} - set(relation.columns)
    if missing:
        raise ValueError(
            f"{args.transactions} has no column {', '.join(sorted(missing))} (columns: {relation.columns})"
        )
    frame = relation.df()
    if args.order_column:
        frame = frame.drop_duplicates(args.order_column, keep="last")
    return frame


def _write(frame, output: str) -> None:
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".parquet":
        frame.to_parquet(target, index=False)
    else:
        frame.to_csv(target, index=False)


def cmd_ltv(args: argparse.Namespace, paths: DataPaths) -> int:
    import pandas as pd

    from .predict import DAYS_PER_MONTH, fit_and_predict, has_usable_spend_model

    transactions = _read(args)
    groups = transactions.groupby(args.group_column, sort=True) if args.group_column else [(None, transactions)]
    columns = {"customer": args.customer_column, "at": args.time_column, "amount": args.amount_column}
    outputs = []
    for group, rows in groups:
        name = group[0] if isinstance(group, tuple) else group
        label = f"{args.group_column}={name}: " if args.group_column else ""
        started = time.perf_counter()
        as_of = pd.Timestamp(args.as_of) if args.as_of else None
        try:
            result = fit_and_predict(
                rows, args.horizon_months * DAYS_PER_MONTH, as_of, args.model, args.per_day, **columns
            )
        except ValueError as exc:  # one group too small to fit must not stop the others
            print(f"{label}skipped: {exc}")
            continue
        elapsed = time.perf_counter() - started
        fitted = ", ".join(
            f"{k}={v:.4g} (se {result.purchases.std_errors[k]:.2g})" for k, v in result.purchases.params.items()
        )
        print(
            f"{label}{args.model}: {fitted}; log-likelihood {result.purchases.log_likelihood:.1f}; "
            f"{len(result.predictions):,} customers, fitted in {elapsed:.2f} s"
        )
        if result.spend is None:
            print(f"{label}gamma-gamma: too few repeat customers; no value predicted")
        else:
            spend = ", ".join(f"{k}={v:.4g}" for k, v in result.spend.params.items())
            usable = (
                ""
                if has_usable_spend_model(result.spend)
                else " (not identified: at or towards a parameter bound, or q <= 1; no value predicted)"
            )
            print(f"{label}gamma-gamma: {spend}{usable}")
        frame = result.predictions[OUTPUT_COLUMNS]
        if args.group_column:
            frame = frame.assign(**{args.group_column: name})
        outputs.append(frame)
    if not outputs:
        raise ValueError("no group of transactions could be fitted")
    _write(pd.concat(outputs, ignore_index=True), args.output)
    print(f"wrote {sum(len(f) for f in outputs):,} predictions to {args.output}")
    return 0
