-- Store x local date: how long the steps of an order take, p50 and p90 hours each, and the share
-- of the day's orders placed with a promotion code. A turnaround counts on the local date of the
-- event that ends it (capture, first shipment, delivery, refund): a day's figures are final once
-- its events have landed, and a step that ends late never rewrites the day its order was placed.
-- Only returned goods have a request before their refund (stg_oms__refunds has no request time
-- and no return id): return request to refund and refund turnaround (receipt to refund) measure
-- the refunds of reason 'returned', matched to their order's non-rejected returns.
{% set steps = [
    'order_to_capture', 'capture_to_shipment', 'shipment_to_delivery', 'return_request_to_refund', 'refund_turnaround'
] %}

with orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

shipments as (

    select * from {{ ref('int_shipments_evaluated') }}

),

refunds as (

    select * from {{ ref('int_refunds_converted_to_usd') }}

),

returns as (

    select * from {{ ref('stg_logistics__returns') }}

),

counted_orders as (

    select * from orders
    where not is_cancelled

),

first_shipments as (

    select
        order_id,
        min(shipped_at) as shipped_at
    from shipments
    group by order_id

),

returns_per_order as (

    select
        order_id,
        min(requested_at) as requested_at,
        min(received_at) as received_at
    from returns
    where status <> 'rejected'
    group by order_id

),

return_refunds as (

    select
        refunds.store_id,
        refunds.refund_date,
        refunds.refunded_at,
        returns_per_order.requested_at,
        returns_per_order.received_at
    from refunds
    left join returns_per_order
        on refunds.order_id = returns_per_order.order_id
    where refunds.reason = 'returned' and not refunds.is_cancelled_order

),

-- one row per measured turnaround: its step, the moment it ended and its length in hours
turnarounds as (

    select
        store_id,
        'order_to_capture' as step,
        captured_at as ended_at,
        {{ hours_between('placed_at', 'captured_at') }} as hours
    from counted_orders
    where captured_at is not null

    union all

    select
        counted_orders.store_id,
        'capture_to_shipment' as step,
        first_shipments.shipped_at as ended_at,
        {{ hours_between('counted_orders.captured_at', 'first_shipments.shipped_at') }} as hours
    from counted_orders
    inner join first_shipments
        on counted_orders.order_id = first_shipments.order_id
    where counted_orders.captured_at is not null

    union all

    select
        store_id,
        'shipment_to_delivery' as step,
        delivered_at as ended_at,
        delivery_hours as hours
    from shipments
    where is_delivered

    union all

    select
        store_id,
        'return_request_to_refund' as step,
        refunded_at as ended_at,
        {{ hours_between('requested_at', 'refunded_at') }} as hours
    from return_refunds
    where requested_at is not null

    union all

    -- a refund issued before its return was received has no turnaround from receipt
    select
        store_id,
        'refund_turnaround' as step,
        refunded_at as ended_at,
        {{ hours_between('received_at', 'refunded_at') }} as hours
    from return_refunds
    where received_at <= refunded_at

),

localized_turnarounds as (

    {{ with_local_date('turnarounds', 'ended_at', 'date') | indent(4) }}

),

turnarounds_per_step as (

    select
        store_id,
        date,
        step,
        count(*) as turnarounds,
        {{ percentile_cont('hours', 0.5, scale=4) }} as hours_p50,
        {{ percentile_cont('hours', 0.9, scale=4) }} as hours_p90
    from localized_turnarounds
    group by
        store_id,
        date,
        step

),

-- one column per step and measure
turnarounds_per_day as (

    select
        {%- for step in steps %}
            max(case when step = '{{ step }}' then turnarounds end) as {{ step }}_count,
            max(case when step = '{{ step }}' then hours_p50 end) as {{ step }}_hours_p50,
            max(case when step = '{{ step }}' then hours_p90 end) as {{ step }}_hours_p90,
        {%- endfor %}
        store_id,
        date
    from turnarounds_per_step
    group by
        store_id,
        date

),

return_refunds_per_day as (

    select
        store_id,
        refund_date as date,
        count(*) as return_refunds,
        count(
            case when requested_at is not null and (received_at is null or received_at > refunded_at) then 1 end
        ) as refunds_before_receipt
    from return_refunds
    group by
        store_id,
        refund_date

),

orders_per_day as (

    select
        store_id,
        order_date as date,
        count(*) as orders,
        count(case when discount_code is not null then 1 end) as promoted_orders
    from counted_orders
    group by
        store_id,
        order_date

),

store_days as (

    {{ store_day_spine(['orders_per_day', 'turnarounds_per_day', 'return_refunds_per_day']) | indent(4) }}

),

final as (

    select
        store_days.store_id,
        store_days.date,
        coalesce(orders_per_day.orders, 0) as orders,
        coalesce(orders_per_day.promoted_orders, 0) as promoted_orders,
        {%- for step in steps %}
            coalesce(turnarounds_per_day.{{ step }}_count, 0) as {{ step }}_count,
            turnarounds_per_day.{{ step }}_hours_p50,
            turnarounds_per_day.{{ step }}_hours_p90,
        {%- endfor %}
        coalesce(return_refunds_per_day.return_refunds, 0) as return_refunds,
        coalesce(return_refunds_per_day.refunds_before_receipt, 0) as refunds_before_receipt
    from store_days
    left join orders_per_day
        on {{ spine_match('store_days', 'orders_per_day') }}
    left join turnarounds_per_day
        on {{ spine_match('store_days', 'turnarounds_per_day') }}
    left join return_refunds_per_day
        on {{ spine_match('store_days', 'return_refunds_per_day') }}

)

select
    *,
    {{ ratio('promoted_orders', 'orders') }} as promotion_adoption_rate
from final
