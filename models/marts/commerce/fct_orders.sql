with orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

located as (

    select * from {{ ref('int_orders_located') }}

)

select
    orders.order_id,
    orders.store_id,
    orders.customer_id,
    orders.cart_id,
    orders.platform,
    located.region,
    located.city,
    orders.discount_code,
    orders.status,
    orders.placed_at,
    orders.order_date,
    orders.is_cancelled,
    orders.has_captured_payment,
    orders.captured_at,
    orders.payment_attempts,
    orders.is_delivered,
    orders.delivered_at,
    orders.has_refund,
    orders.is_fully_refunded,
    orders.has_return,
    orders.items_sold,
    orders.currency,
    orders.usd_per_unit,
    orders.gmv,
    orders.discounts,
    orders.shipping_amount,
    orders.tax_amount,
    orders.total_amount,
    orders.refunded_amount,
    orders.gmv_usd,
    orders.discounts_usd,
    orders.shipping_amount_usd,
    orders.tax_amount_usd,
    orders.total_amount_usd,
    orders.refunded_amount_usd
from orders
left join located
    on orders.order_id = located.order_id
