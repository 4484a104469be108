with source as (

    select * from {{ raw_source('oms', 'promotions') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'promotion_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        promotion_id,
        store_id,
        name,
        promotion_type,
        discount_value,
        starts_at,
        ends_at,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
