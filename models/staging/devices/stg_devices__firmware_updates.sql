with source as (

    select * from {{ raw_source('devices', 'firmware_updates') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'update_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        update_id,
        {{ pseudonymize('device_id') }} as device_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        from_version,
        to_version,
        status,
        completed_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
