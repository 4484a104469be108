with source as (

    select * from {{ raw_source('logistics', 'shipments') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'shipment_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        shipment_id,
        order_id,
        store_id,
        warehouse_id,
        carrier,
        destination_country,
        destination_region,
        {{ pseudonymize('destination_postal_code') }} as destination_postal_code,
        destination_postal_prefix,
        shipped_at,
        eta_at,
        delivery_attempts,
        delivered_at,
        returned_to_origin as is_returned_to_origin,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
