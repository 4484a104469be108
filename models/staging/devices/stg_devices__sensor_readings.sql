with source as (

    select * from {{ raw_source('devices', 'sensor_readings') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'reading_id', '_landing_order') | indent(4) }}

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
