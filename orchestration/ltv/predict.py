"""From a table of transactions to fitted parameters and per-customer predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .models import (
    Fit,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)

DAY = pd.Timedelta(days=1)
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class LtvResult:
    purchases: Fit
    spend: Fit | None  # None when too few repeat customers to fit Gamma-Gamma
    as_of: pd.Timestamp
    predictions: pd.DataFrame


def summarise(
    transactions: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    customer="customer_id",
    at="ordered_at",
    amount="amount",
    per_day: bool = False,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """One row per customer: frequency x (repeat purchases), recency t_x and age T in days, mean value of
    the repeat purchases (the Gamma-Gamma convention), and totals. Transactions after as_of are ignored.

    With per_day, a customer's transactions of one calendar day (UTC) are one purchase, at the day's
    first time, of their summed value: the unit the published BG/NBD and Gamma-Gamma fits count in."""
    frame = transactions[[customer, at, amount]].rename(columns={customer: "customer_id", at: "at", amount: "amount"})
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["amount"] = frame["amount"].astype(float)
    as_of = frame["at"].max() if as_of is None else pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of
    frame = frame[frame["at"] <= as_of]
    if per_day:
        frame = frame.groupby(["customer_id", frame["at"].dt.floor("D")], sort=False).agg(
            at=("at", "min"), amount=("amount", "sum")
        )
        frame = frame.reset_index(level="customer_id").reset_index(drop=True)
    frame = frame.sort_values(["customer_id", "at"], kind="stable")
    first = frame.groupby("customer_id", sort=True)["at"].transform("min")
    frame["repeat_amount"] = np.where(frame["at"].to_numpy() > first.to_numpy(), frame["amount"], np.nan)
    # the first transaction opens the history; a second one at the very same instant is still a repeat
    is_first = ~frame.duplicated("customer_id")
    frame.loc[~is_first, "repeat_amount"] = frame.loc[~is_first, "amount"]
    per = frame.groupby("customer_id", sort=True).agg(
        transactions=("at", "size"),
        first_at=("at", "min"),
        last_at=("at", "max"),
        total_amount=("amount", "sum"),
        mean_repeat_value=("repeat_amount", "mean"),
    )
    per["frequency"] = per["transactions"] - 1
    per["recency_days"] = (per["last_at"] - per["first_at"]) / DAY
    per["age_days"] = (as_of - per["first_at"]) / DAY
    return per.reset_index(), as_of


def has_usable_spend_model(spend: Fit | None) -> bool:
    """A spend model to predict with: fitted, off its bounds, identified, and with a finite mean (q > 1)."""
    return spend is not None and spend.converged and spend.is_identified and spend.params["q"] > 1


def fit_and_predict(
    transactions: pd.DataFrame,
    horizon_days: float = 12 * DAYS_PER_MONTH,
    as_of: pd.Timestamp | None = None,
    model: str = "mbgnbd",
    per_day: bool = False,
    **columns: str,
) -> LtvResult:
    """Fit the purchase and spend models on one population and predict each customer's next horizon_days.

    Expected order value and predicted value are NaN (NULL in the warehouse) when no spend model can be
    trusted: too few repeat customers to fit Gamma-Gamma, a fit run to a parameter bound or along a ridge
    towards one (the data cannot tell the spend heterogeneity apart), or q <= 1 (no finite mean)."""
    per, as_of = summarise(transactions, as_of, per_day=per_day, **columns)
    x, t_x, T = (per[c].to_numpy(dtype=float) for c in ("frequency", "recency_days", "age_days"))
    purchases = fit_bgnbd(x, t_x, T, model)
    if not purchases.converged:
        raise ValueError(f"the purchase model did not converge to an interior optimum: {purchases.params}")
    try:
        spend = fit_gamma_gamma(x, per["mean_repeat_value"].fillna(0).to_numpy())
    except ValueError:
        spend = None
    per["probability_alive"] = probability_alive(purchases.params, x, t_x, T, model)
    per["predicted_purchases"] = expected_purchases(purchases.params, horizon_days, x, t_x, T, model)
    if has_usable_spend_model(spend):
        value = expected_average_value(spend.params, x, per["mean_repeat_value"].fillna(0).to_numpy())
    else:
        value = np.nan
    per["expected_average_value"] = value
    per["predicted_value"] = per["predicted_purchases"] * per["expected_average_value"]
    return LtvResult(purchases=purchases, spend=spend, as_of=as_of, predictions=per)
