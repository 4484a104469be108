-- The store's geography reference: postal area (prefix) to city and region, low class.
with source as (

    select * from {{ raw_source('logistics', 'postal_areas') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'store_id, country, postal_prefix', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        store_id,
        country,
        postal_prefix,
        city,
        region,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
