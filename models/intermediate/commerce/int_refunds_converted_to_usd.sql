-- Refunds count on their own local date, but convert at the rate of their order's date, like
-- every amount of the order (METRICS.md), so an order and its refunds net out in USD.
with refunds as (

    select * from {{ ref('stg_oms__refunds') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

)

select
    refunds.refund_id,
    refunds.order_id,
    refunds.store_id,
    refunds.refunded_at,
    {{ local_date('refunds.refunded_at', 'stores.time_zone') }} as refund_date,
    orders.order_date,
    -- A cancelled order never counted in GMV, so its refund must not reduce net revenue.
    coalesce(orders.is_cancelled, false) as is_cancelled_order,
    refunds.refund_type,
    refunds.reason,
    refunds.currency,
    refunds.amount,
    {{ to_usd('refunds.amount', 'orders.usd_per_unit') }} as amount_usd
from refunds
inner join stores
    on refunds.store_id = stores.store_id
left join orders
    on refunds.order_id = orders.order_id
