with order_items as (

    select * from {{ ref('stg_oms__order_items') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

)

select
    order_items.order_item_id,
    order_items.order_id,
    order_items.store_id,
    order_items.product_id,
    orders.order_date,
    orders.is_cancelled,
    orders.currency,
    order_items.quantity,
    order_items.unit_price,
    order_items.item_discount,
    order_items.quantity * order_items.unit_price as line_gmv,
    {{ to_usd('order_items.quantity * order_items.unit_price', 'orders.usd_per_unit') }} as line_gmv_usd,
    {{ to_usd('order_items.item_discount', 'orders.usd_per_unit') }} as item_discount_usd
from order_items
inner join orders
    on order_items.order_id = orders.order_id
