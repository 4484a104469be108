with orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

)

select
    order_id,
    store_id,
    customer_id,
    cart_id,
    platform,
    discount_code,
    status,
    placed_at,
    order_date,
    is_cancelled,
    has_captured_payment,
    captured_at,
    payment_attempts,
    is_delivered,
    delivered_at,
    has_refund,
    is_fully_refunded,
    has_return,
    items_sold,
    currency,
    usd_per_unit,
    gmv,
    discounts,
    shipping_amount,
    tax_amount,
    total_amount,
    refunded_amount,
    gmv_usd,
    discounts_usd,
    shipping_amount_usd,
    tax_amount_usd,
    total_amount_usd,
    refunded_amount_usd
from orders
