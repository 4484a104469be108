with source as (

    select * from {{ raw_source('oms', 'order_items') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'order_item_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        order_item_id,
        order_id,
        store_id,
        product_id,
        quantity,
        unit_price,
        item_discount,
        order_placed_at,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
