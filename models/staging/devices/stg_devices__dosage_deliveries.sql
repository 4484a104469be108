with deduplicated as (

    -- immutable: the first received copy wins (read from the landed table, not a `source` CTE, so
    -- the device days' filter on scheduled_at reaches the scan: see first_landed_copy)
    {{ first_landed_copy(raw_source('devices', 'dosage_deliveries'), 'delivery_id') | indent(4) }}

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
