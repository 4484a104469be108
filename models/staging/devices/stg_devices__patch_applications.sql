with source as (

    select * from {{ raw_source('devices', 'patch_applications') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'application_id', '_landing_order desc') | indent(4) }}

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
