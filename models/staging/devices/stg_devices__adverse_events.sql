with source as (

    select * from {{ raw_source('devices', 'adverse_events') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'adverse_event_id', '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        adverse_event_id,
        {{ pseudonymize('device_id') }} as device_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        product_id,
        lot_number,
        severity,
        reported_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
