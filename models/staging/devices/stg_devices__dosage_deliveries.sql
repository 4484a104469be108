with source as (

    select * from {{ raw_source('devices', 'dosage_deliveries') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'delivery_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        delivery_id,
        {{ pseudonymize('device_id') }} as device_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        scheduled_at,
        delivered_at,
        scheduled_dose_mg,
        delivered_dose_mg,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
