with source as (

    select * from {{ raw_source('oms', 'fx_rates') }}

),

deduplicated as (

    -- re-published on correction: the row landed last wins
    {{ deduplicate('source', 'store_id, rate_date', 'published_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        store_id,
        rate_date,
        currency,
        usd_per_unit,
        published_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
