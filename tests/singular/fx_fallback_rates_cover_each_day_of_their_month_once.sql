-- int_fx_fallback_rates_daily gives every day of each month of the seed fx_rates_monthly exactly
-- one rate per currency, the month's: from the 1st to the last day (the next day is in another
-- month), as many rows as days, each at the seed's rate. Any row returned is a failure.
with monthly as (

    select * from {{ ref('fx_rates_monthly') }}

),

daily as (

    select
        currency,
        rate_date,
        usd_per_unit,
        extract(year from rate_date) * 100 + extract(month from rate_date) as rate_year_month
    from {{ ref('int_fx_fallback_rates_daily') }}

),

per_month as (

    select
        currency,
        rate_year_month,
        count(*) as rows_in_month,
        count(distinct rate_date) as distinct_days,
        min(extract(day from rate_date)) as first_day,
        max(extract(day from rate_date)) as last_day,
        max(rate_date) as last_date,
        min(usd_per_unit) as min_rate,
        max(usd_per_unit) as max_rate
    from daily
    group by 1, 2

)

select
    monthly.rate_month,
    monthly.currency,
    per_month.rows_in_month,
    per_month.last_day
from monthly
left join per_month
    on
        monthly.currency = per_month.currency
        and extract(year from monthly.rate_month) * 100 + extract(month from monthly.rate_month)
        = per_month.rate_year_month
where
    per_month.currency is null
    or per_month.rows_in_month != per_month.distinct_days
    or per_month.first_day != 1
    or per_month.rows_in_month != per_month.last_day
    or per_month.last_day < 28
    or extract(month from {{ add_days(1, 'per_month.last_date') }}) = extract(month from per_month.last_date)
    or per_month.min_rate != monthly.usd_per_unit
    or per_month.max_rate != monthly.usd_per_unit
