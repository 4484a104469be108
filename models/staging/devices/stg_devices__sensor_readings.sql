with deduplicated as (

    -- immutable: the first received copy wins (read from the landed table, not a `source` CTE, so
    -- a test's window on measured_at reaches the scan: see first_landed_copy)
    {{ first_landed_copy(raw_source('devices', 'sensor_readings'), 'reading_id') | indent(4) }}

),

renamed as (

    select
        reading_id,
        {{ pseudonymize('device_id') }} as device_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        measured_at,
        value,
        quality_flag,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
