-- The USD rate of each currency and date: the rate the stores' back offices published (landed
-- extract fx_rates), else its month's rate in the fallback seed (int_fx_fallback_rates_daily).
-- Every amount converts at the rate of its local date; a date with neither fails the not_null
-- test on the converted orders instead of giving NULL dollars.
with landed as (

    select * from {{ ref('stg_oms__fx_rates') }}

),

fallback as (

    select * from {{ ref('int_fx_fallback_rates_daily') }}

),

published as (

    -- stores sharing a currency publish the same rate; the latest publication wins
    select
        rate_date,
        currency,
        usd_per_unit,
        landed_at
    from (
        select
            rate_date,
            currency,
            usd_per_unit,
            landed_at,
            row_number() over (
                partition by rate_date, currency
                order by published_at desc, store_id asc
            ) as publication_rank
        from landed
    ) as ranked
    where publication_rank = 1

),

final as (

    select
        rate_date,
        currency,
        usd_per_unit,
        'landed' as rate_source,
        landed_at
    from published
    union all
    select
        fallback.rate_date,
        fallback.currency,
        fallback.usd_per_unit,
        'fallback_seed' as rate_source,
        cast(null as {{ dbt.type_timestamp() }}) as landed_at
    from fallback
    left join published
        on
            fallback.rate_date = published.rate_date
            and fallback.currency = published.currency
    where published.rate_date is null

)

select * from final
