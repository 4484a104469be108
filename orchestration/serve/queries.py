"""How a panel's figure becomes SQL: additive columns summed, rates divided after the sum.

A rate is never averaged across days or stores: each `Rate` names the additive numerator and
denominator it divides, the same formula as the mart's own column of that name (see METRICS.md), so
a week or three stores give the rate of the whole. Every value from a request reaches the SQL as a
bound parameter; only the names written in this package are pasted into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Rate:
    name: str
    numerator: str
    denominator: str

    def sql(self) -> str:
        # A denominator of 0 gives NULL, as in the marts; the division is in floating point.
        return f"sum({self.numerator}) / nullif(sum({self.denominator}), 0) as {self.name}"


@dataclass(frozen=True)
class Filters:
    """A request's filters, checked and scoped: `stores` None means every store."""

    first: date
    last: date
    stores: tuple[str, ...] | None
    dimensions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Query:
    """One dataset of a panel: `keys` group, `sums` add up, `rates` divide sums, `extra` are other aggregates."""

    mart: str
    keys: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    rates: tuple[Rate, ...] = ()
    extra: tuple[str, ...] = ()
    date_column: str | None = "date"
    # Dimensions of the panel this query's mart carries, filtered with `column in (...)`.
    dimensions: tuple[str, ...] = ()
    order_by: str | None = None
    limit: int | None = None
    # Stock is a level, not a flow: read it on the last day of the range only.
    last_day_only: bool = False
    # A monthly date column (the first of the month) counts a month the range touches.
    is_monthly: bool = False
    is_store_scoped: bool = True

    def sql(self, filters: Filters) -> tuple[str, list]:
        select = [*self.keys, *(f"sum({c}) as {c}" for c in self.sums), *(r.sql() for r in self.rates), *self.extra]
        where, params = self.where(filters)
        text = f'select {", ".join(select)} from "{self.mart}"'
        if where:
            text += " where " + " and ".join(where)
        if self.keys and (self.sums or self.rates or self.extra):
            text += " group by all"
        if self.order_by:
            text += f" order by {self.order_by}"
        if self.limit:
            text += f" limit {int(self.limit)}"
        return text, params

    def where(self, filters: Filters) -> tuple[list[str], list]:
        where: list[str] = []
        params: list = []
        if self.is_store_scoped and filters.stores is not None:
            where.append("store_id in (select unnest(?::varchar[]))")
            params.append(list(filters.stores))
        if self.date_column and self.last_day_only:
            where.append(f"{self.date_column} = ?")
            params.append(filters.last)
        elif self.date_column and self.is_monthly:
            where.append(f"{self.date_column} between date_trunc('month', ?::date) and ?")
            params.extend([filters.first, filters.last])
        elif self.date_column:
            where.append(f"{self.date_column} between ? and ?")
            params.extend([filters.first, filters.last])
        for dimension in self.dimensions:
            if values := filters.dimensions.get(dimension):
                where.append(f"{dimension} in (select unnest(?::varchar[]))")
                params.append(list(values))
        return where, params
