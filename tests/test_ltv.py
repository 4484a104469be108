"""The `ltv` command against the published CDNOW fits, purchase days, and spend fits at a bound."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.cli import main
from orchestration.ltv.models import expected_purchases
from orchestration.ltv.predict import fit_and_predict

CDNOW = Path(__file__).parent / "data" / "cdnow" / "CDNOW_sample.txt"
# Fader, Hardie & Lee (2005) and Fader & Hardie's Gamma-Gamma note, on the 39-week calibration period,
# weekly time unit (see tests/data/cdnow/README.md).
PUBLISHED_BGNBD = {"r": 0.243, "alpha_weeks": 4.414, "a": 0.793, "b": 2.426, "log_likelihood_weeks": -9582.4}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CALIBRATION_END = "1997-09-30T00:00:00Z"  # T of a customer who first bought on 1997-01-02 is 38.86 weeks


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> Path:
    """The sample as a transactions table: customer, purchase date, amount (every purchase to mid-1998;
    the command ignores those after --as-of)."""
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["customer_id", "master_id", "date", "cds", "amount"])
    target = tmp_path_factory.mktemp("cdnow") / "transactions.csv"
    transactions = raw.assign(ordered_at=pd.to_datetime(raw["date"].astype(str), format="%Y%m%d", utc=True))
    transactions[["customer_id", "ordered_at", "amount"]].to_csv(target, index=False)
    return target


def run_ltv_command(capsys, transactions: Path, output: Path, *options: str) -> tuple[dict, pd.DataFrame]:
    """Run `commerce-analytics ltv` and read back what it printed and wrote."""
    argv = ["ltv", "--transactions", str(transactions), "--output", str(output), *options]
    assert main(argv) == 0
    out = capsys.readouterr().out
    printed = {k: float(v) for k, v in re.findall(r"\b(r|alpha|a|b|p|q|gamma)=([-\d.e+]+)", out)}
    printed["log_likelihood"] = float(re.search(r"log-likelihood (-?[\d.]+)", out).group(1))
    return printed | {"out": out}, pd.read_csv(output)


def test_ltv_command_reproduces_the_published_cdnow_fits_within_one_percent(cdnow_csv, tmp_path, capsys):
    options = ("--model", "bgnbd", "--as-of", CALIBRATION_END, "--horizon-months", str(39 * 7 / (365.25 / 12)))
    fitted, predictions = run_ltv_command(capsys, cdnow_csv, tmp_path / "cdnow.csv", *options)
    assert len(predictions) == 2357
    # The command works in days: alpha is 7 times the weekly one, and each repeat purchase's density
    # is 7 times smaller per day, so the log-likelihood is lower by ln 7 per repeat purchase.
    repeats = predictions["frequency"].sum()
    in_weeks = {
        "r": fitted["r"],
        "alpha_weeks": fitted["alpha"] / 7,
        "a": fitted["a"],
        "b": fitted["b"],
        "log_likelihood_weeks": fitted["log_likelihood"] + math.log(7) * repeats,
    }
    assert in_weeks == pytest.approx(PUBLISHED_BGNBD, rel=0.01)
    assert {k: fitted[k] for k in PUBLISHED_GAMMA_GAMMA} == pytest.approx(PUBLISHED_GAMMA_GAMMA, rel=0.01)
    # The paper's worked example: x = 2, t_x = 30.43, T = 38.86 weeks expects 1.226 purchases in 39 weeks.
    params = {"r": fitted["r"], "alpha": fitted["alpha"], "a": fitted["a"], "b": fitted["b"]}
    example = expected_purchases(params, 39 * 7, np.array([2.0]), np.array([30.43 * 7]), np.array([38.86 * 7]), "bgnbd")
    assert example[0] == pytest.approx(1.226, rel=0.01)


def test_purchases_of_one_day_count_once_unless_told_otherwise(cdnow_csv, tmp_path, capsys):
    options = ("--model", "bgnbd", "--as-of", CALIBRATION_END)
    per_day, by_day = run_ltv_command(capsys, cdnow_csv, tmp_path / "days.csv", *options)
    per_row, by_row = run_ltv_command(capsys, cdnow_csv, tmp_path / "rows.csv", *options, "--no-per-day")
    # 4,960 rows in the calibration period, 4,814 purchase days.
    assert (by_row["transactions"].sum(), by_day["transactions"].sum()) == (4960, 4814)
    assert by_day["total_amount"].sum() == pytest.approx(by_row["total_amount"].sum())
    assert per_day["r"] == pytest.approx(PUBLISHED_BGNBD["r"], rel=0.01)
    assert per_row["r"] == pytest.approx(0.217, rel=0.01)  # every row a purchase: r far from the paper's


def test_a_spend_fit_at_a_parameter_bound_predicts_no_value(cdnow_csv, tmp_path, capsys):
    """Every order of a customer costs the same: the spend hardly varies within customers, so
    Gamma-Gamma's p runs along a ridge towards its bound (p = 379, standard error 3,242 here; p = 1e6
    with standard errors 0 at the bound), and its predictions would be made-up numbers."""
    flat = pd.read_csv(cdnow_csv).assign(amount=lambda f: f.groupby("customer_id")["amount"].transform("first"))
    result = fit_and_predict(flat, as_of=pd.Timestamp(CALIBRATION_END), model="bgnbd", per_day=True)
    assert result.purchases.converged and not result.spend.is_identified
    # p is not pinned down: its standard error exceeds it on the ridge, or is 0 where the Hessian is
    # singular near the bound (which one depends on the optimiser's path, so on the BLAS build).
    assert result.spend.params["p"] > 100
    assert not 0 < result.spend.std_errors["p"] < result.spend.params["p"]
    assert result.predictions["predicted_purchases"].notna().all()
    assert result.predictions[["expected_average_value", "predicted_value"]].isna().all().all()
    flat_csv = tmp_path / "flat.csv"
    flat.to_csv(flat_csv, index=False)
    printed, predictions = run_ltv_command(capsys, flat_csv, tmp_path / "out.csv", "--as-of", CALIBRATION_END)
    assert "no value predicted" in printed["out"]
    assert predictions["predicted_value"].isna().all()
