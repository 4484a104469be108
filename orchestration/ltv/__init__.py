"""Predictive customer lifetime value: (M)BG/NBD purchases and Gamma-Gamma spend, fitted with scipy.

`models` holds the likelihoods and predictions, `predict` goes from transactions to predictions, `by_store`
is the warehouse's fit (both engines; `spark_transform` runs it in Spark), `cli` is the
`commerce-analytics ltv` command. Nothing is imported here, so the CLI starts without scipy."""

VARIANTS = ("mbgnbd", "bgnbd")  # purchase models; the first is the default (see models.py)
