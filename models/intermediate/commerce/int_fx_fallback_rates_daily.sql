-- The fallback seed's monthly rates as one rate per currency and calendar day: every day of a
-- month takes the month's rate (int_fx_rates_daily uses it where no rate landed).
with monthly as (

    select * from {{ ref('fx_rates_monthly') }}

),

day_offsets as (

    select 0 as day_offset
    {%- for offset in range(1, 31) %}
        union all
        select {{ offset }} as day_offset
    {%- endfor %}

),

days as (

    select
        monthly.rate_month,
        monthly.currency,
        monthly.usd_per_unit,
        cast({{ add_days('day_offsets.day_offset', 'monthly.rate_month') }} as date) as rate_date
    from monthly
    cross join day_offsets

)

select
    rate_date,
    currency,
    usd_per_unit
from days
where extract(month from rate_date) = extract(month from rate_month)
