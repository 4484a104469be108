with source as (

    select * from {{ raw_source('oms', 'stores') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'store_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        store_id,
        name,
        country,
        time_zone,
        currency,
        opened_at,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
