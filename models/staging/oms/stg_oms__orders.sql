with source as (

    select * from {{ raw_source('oms', 'orders') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'order_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        order_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        cart_id,
        placed_at,
        status,
        currency,
        subtotal,
        order_discount,
        shipping_amount,
        tax_amount,
        total_amount,
        discount_code,
        platform,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
