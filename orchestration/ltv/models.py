"""Buy-till-you-die models fitted by maximum likelihood with scipy, vectorised over customers.

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer
  buys at rate lambda ~ Gamma(r, alpha); after each *repeat* purchase they drop out with probability
  p ~ Beta(a, b), so a customer who never came back is certainly alive.
- MBG/NBD (Batislam, Denizel & Filiztekin 2007): the same, but the dropout coin is also tossed right
  after the first purchase, so a one-time buyer may already be gone. This is the process the synthetic
  generator plays (`orchestration/generator/customers.py`), and the default here.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013 note): each purchase spends
  z ~ Gamma(p, nu) with nu ~ Gamma(q, gamma) per customer, independent of the purchase process.

Inputs per customer: x (repeat purchases), t_x (time of the last purchase after the first), T (time from
the first purchase to the end of observation), all in one time unit (days here). Parameters are fitted on
their logarithms, so they stay positive without bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from . import VARIANTS


@dataclass(frozen=True)
class Fit:
    params: dict[str, float]
    std_errors: dict[str, float]  # from the observed information (inverse Hessian of -LL), delta method
    log_likelihood: float
    converged: bool

    @property
    def is_identified(self) -> bool:
        """Every parameter is pinned down by the data: its standard error is finite, not zero and
        smaller than the estimate. A fit that runs along a ridge towards a bound (Gamma-Gamma's p when
        the spend hardly varies within customers) stops anywhere on it, with a standard error as large
        as the estimate, or 0 at the bound itself."""
        return all(np.isfinite(se) and 0 < se < self.params[name] for name, se in self.std_errors.items())


def _hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian of a scalar function."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * step, np.eye(n)[j] * step
            h[i, j] = h[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                4 * step * step
            )
    return h


# Parameters are searched within [1e-4, 1e6]: a fit that runs to a bound means the data cannot tell the
# heterogeneity apart (too short a history), which the caller sees as converged=False.
LOG_BOUNDS = (np.log(1e-4), np.log(1e6))
MIN_REPEAT_CUSTOMERS = 10


def _in_canonical_order(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """The customers sorted by their values. A likelihood is a float sum, so its last bits depend on the
    order of the terms, and on a flat likelihood (a short history) that is enough to move the optimum or
    tip it onto a bound. Customer ids are keyed pseudonyms, so their order changes with the key: sorting
    by value makes a fit a function of the data alone, the same in dbt and in the `ltv` command."""
    order = np.lexsort(columns[::-1])
    return tuple(c[order] for c in columns)


def _fit(neg_ll, names: tuple[str, ...], start: np.ndarray) -> Fit:
    result = minimize(neg_ll, np.log(start), method="L-BFGS-B", bounds=[LOG_BOUNDS] * len(start))
    at_bound = np.any(np.isclose(result.x, LOG_BOUNDS[0]) | np.isclose(result.x, LOG_BOUNDS[1]))
    theta = result.x
    params = np.exp(theta)
    try:
        cov = np.linalg.inv(_hessian(neg_ll, theta))
        se = params * np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(len(names), np.nan)
    return Fit(
        params=dict(zip(names, params.tolist(), strict=True)),
        std_errors=dict(zip(names, se.tolist(), strict=True)),
        log_likelihood=-float(result.fun),
        converged=bool(result.success) and not at_bound,
    )


def bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, variant: str = "mbgnbd"
) -> np.ndarray:
    """Per-customer log-likelihood."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    if variant == "bgnbd":  # FHL 2005, eq. 6
        alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
        with np.errstate(invalid="ignore", divide="ignore"):
            gone = np.where(x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
    elif variant == "mbgnbd":  # Batislam et al. 2007, eq. 4
        alive = betaln(a, b + x + 1) - (r + x) * np.log(alpha + T)
        gone = betaln(a + 1, b + x) - (r + x) * np.log(alpha + t_x)
    else:
        raise ValueError(f"unknown model {variant!r}; choose one of {VARIANTS}")
    return common + np.logaddexp(alive, gone)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, variant: str = "mbgnbd") -> Fit:
    """Maximum-likelihood (r, alpha, a, b); alpha in the time unit of t_x and T."""
    x, t_x, T = _in_canonical_order(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    if variant not in VARIANTS:
        raise ValueError(f"unknown model {variant!r}; choose one of {VARIANTS}")
    if np.count_nonzero(x > 0) < MIN_REPEAT_CUSTOMERS:
        raise ValueError(f"at least {MIN_REPEAT_CUSTOMERS} customers with a repeat purchase are needed to fit")
    scale = max(float(np.mean(T)), 1e-9)

    def neg_ll(theta: np.ndarray) -> float:
        return -float(np.sum(bgnbd_log_likelihood(np.exp(theta), x, t_x, T, variant))) / len(x)

    fit = _fit(neg_ll, ("r", "alpha", "a", "b"), np.array([1.0, scale, 1.0, 1.0]))
    # the objective is a mean, so the standard errors of the sum scale by 1/sqrt(n)
    return Fit(
        params=fit.params,
        std_errors={k: v / np.sqrt(len(x)) for k, v in fit.std_errors.items()},
        log_likelihood=fit.log_likelihood * len(x),
        converged=fit.converged,
    )


def probability_alive(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray, variant: str = "mbgnbd"
) -> np.ndarray:
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    ratio = ((alpha + T) / (alpha + t_x)) ** (r + x)
    if variant == "bgnbd":  # FHL 2005, eq. 11 (a customer without repeats is alive)
        with np.errstate(invalid="ignore", divide="ignore"):
            odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
    else:
        odds = a / (b + x) * ratio
    return 1.0 / (1.0 + odds)


def expected_purchases(
    params: dict[str, float], t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, variant: str = "mbgnbd"
) -> np.ndarray:
    """Expected purchases in the next t time units given the history (FHL 2005 eq. 10; Batislam eq. 8)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    z = t / (alpha + T + t)
    decay = ((alpha + T) / (alpha + T + t)) ** (r + x)
    if variant == "bgnbd":
        lead = (a + b + x - 1) / (a - 1)
        body = 1 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z)
    else:
        lead = (a + b + x) / (a - 1)
        body = 1 - decay * hyp2f1(r + x, b + x + 1, a + b + x, z)
    return lead * body * probability_alive(params, x, t_x, T, variant)


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(mean_value)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * mean_value)
    )


def fit_gamma_gamma(x: np.ndarray, mean_value: np.ndarray) -> Fit:
    """Maximum-likelihood (p, q, gamma) on customers with x >= 1 transactions of positive mean value."""
    x, mean_value = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
    keep = (x > 0) & (mean_value > 0)
    x, mean_value = _in_canonical_order(x[keep], mean_value[keep])
    if len(x) < 10:
        raise ValueError("at least 10 repeat customers with positive spend are needed to fit Gamma-Gamma")

    def neg_ll(theta: np.ndarray) -> float:
        return -float(np.sum(gamma_gamma_log_likelihood(np.exp(theta), x, mean_value))) / len(x)

    fit = _fit(neg_ll, ("p", "q", "gamma"), np.array([2.0, 3.0, float(np.mean(mean_value))]))
    return Fit(
        params=fit.params,
        std_errors={k: v / np.sqrt(len(x)) for k, v in fit.std_errors.items()},
        log_likelihood=fit.log_likelihood * len(x),
        converged=fit.converged,
    )


def expected_average_value(params: dict[str, float], x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, mean]; the population mean p * gamma / (q - 1) when x = 0."""
    p, q, gamma = params["p"], params["q"], params["gamma"]
    x = np.asarray(x, dtype=float)
    mean_value = np.where(x > 0, np.asarray(mean_value, dtype=float), 0.0)
    return p * (gamma + x * mean_value) / (p * x + q - 1)
