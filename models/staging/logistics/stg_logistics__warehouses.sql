with source as (

    select * from {{ raw_source('warehouses') }}

),

deduplicated as (

    -- re-exported on change: the latest received row wins
    {{ deduplicate('source', 'warehouse_id', 'updated_at desc, _landed_at desc, _row_number desc') | indent(4) }}

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
