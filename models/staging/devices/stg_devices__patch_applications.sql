with deduplicated as (

    -- re-exported on change: the copy landed last wins (read from the landed table, not a `source`
    -- CTE, so the device days' filter on applied_at reaches the scan: see last_landed_copy)
    {{ last_landed_copy(raw_source('devices', 'patch_applications'), 'application_id') | indent(4) }}

),

renamed as (

    select
        application_id,
        {{ pseudonymize('device_id') }} as device_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        applied_at,
        removed_at,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
