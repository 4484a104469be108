with source as (

    select * from {{ raw_source('devices', 'device_activations') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'device_id', '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        {{ pseudonymize('device_id') }} as device_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        order_item_id,
        product_id,
        lot_number,
        firmware_version,
        prescribed_wear_days,
        shipped_at,
        activated_at,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
