with orders as (

    select * from {{ ref('stg_oms__orders') }}

),

order_items as (

    select * from {{ ref('stg_oms__order_items') }}

),

refunds as (

    select * from {{ ref('stg_oms__refunds') }}

),

returns as (

    select * from {{ ref('stg_logistics__returns') }}

),

payments as (

    select * from {{ ref('stg_oms__payment_attempts') }}

),

shipments as (

    select * from {{ ref('stg_logistics__shipments') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

items_per_order as (

    select
        order_id,
        sum(quantity) as items_sold,
        sum(quantity * unit_price) as gmv,
        sum(item_discount) as item_discounts,
        max(landed_at) as items_landed_at
    from order_items
    group by order_id

),

refunds_per_order as (

    select
        order_id,
        sum(amount) as refunded_amount,
        count(*) as refunds
    from refunds
    group by order_id

),

returns_per_order as (

    select
        order_id,
        sum(quantity) as units_returned
    from returns
    where status <> 'rejected'
    group by order_id

),

payments_per_order as (

    select
        order_id,
        count(*) as payment_attempts,
        min(case when status = 'captured' then attempted_at end) as captured_at,
        max(landed_at) as payments_landed_at
    from payments
    group by order_id

),

deliveries_per_order as (

    select
        order_id,
        min(delivered_at) as delivered_at
    from shipments
    group by order_id

),

localized as (

    select
        orders.*,
        {{ local_date('orders.placed_at', 'stores.time_zone') }} as order_date
    from orders
    inner join stores
        on orders.store_id = stores.store_id

),

final as (

    select
        localized.order_id,
        localized.store_id,
        localized.customer_id,
        localized.cart_id,
        localized.platform,
        localized.discount_code,
        localized.status,
        localized.placed_at,
        localized.order_date,
        localized.currency,
        fx_rates.usd_per_unit,
        localized.status = 'cancelled' as is_cancelled,
        payments_per_order.captured_at,
        payments_per_order.captured_at is not null as has_captured_payment,
        coalesce(payments_per_order.payment_attempts, 0) as payment_attempts,
        deliveries_per_order.delivered_at,
        deliveries_per_order.delivered_at is not null as is_delivered,
        coalesce(refunds_per_order.refunds, 0) > 0 as has_refund,
        coalesce(refunds_per_order.refunded_amount, 0) >= localized.total_amount as is_fully_refunded,
        coalesce(returns_per_order.units_returned, 0) > 0 as has_return,
        coalesce(items_per_order.items_sold, 0) as items_sold,
        coalesce(items_per_order.gmv, 0) as gmv,
        coalesce(items_per_order.item_discounts, 0) + localized.order_discount as discounts,
        localized.shipping_amount,
        localized.tax_amount,
        localized.total_amount,
        coalesce(refunds_per_order.refunded_amount, 0) as refunded_amount,
        -- when anything its session columns read last landed (the order, its lines, its payments,
        -- its day's published rate): incremental session models key on it
        greatest(
            localized.landed_at,
            items_per_order.items_landed_at,
            payments_per_order.payments_landed_at,
            fx_rates.landed_at
        ) as source_landed_at
    from localized
    left join items_per_order
        on localized.order_id = items_per_order.order_id
    left join refunds_per_order
        on localized.order_id = refunds_per_order.order_id
    left join returns_per_order
        on localized.order_id = returns_per_order.order_id
    left join payments_per_order
        on localized.order_id = payments_per_order.order_id
    left join deliveries_per_order
        on localized.order_id = deliveries_per_order.order_id
    left join fx_rates
        on
            localized.order_date = fx_rates.rate_date
            and localized.currency = fx_rates.currency

)

select
    *,
    {{ to_usd('gmv', 'usd_per_unit') }} as gmv_usd,
    {{ to_usd('discounts', 'usd_per_unit') }} as discounts_usd,
    {{ to_usd('shipping_amount', 'usd_per_unit') }} as shipping_amount_usd,
    {{ to_usd('tax_amount', 'usd_per_unit') }} as tax_amount_usd,
    {{ to_usd('total_amount', 'usd_per_unit') }} as total_amount_usd,
    {{ to_usd('refunded_amount', 'usd_per_unit') }} as refunded_amount_usd
from final
