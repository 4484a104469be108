with source as (

    select * from {{ raw_source('logistics', 'warehouses') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'warehouse_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        warehouse_id,
        store_id,
        name,
        country,
        region,
        lead_time_days,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
