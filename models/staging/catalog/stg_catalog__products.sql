with source as (

    select * from {{ raw_source('catalog', 'products') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'product_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        product_id,
        store_id,
        sku,
        name,
        category,
        brand,
        price,
        unit_cost,
        currency,
        launched_at,
        is_active,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
