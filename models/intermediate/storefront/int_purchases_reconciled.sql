-- Clickstream purchases against backend orders, one row per order id either side names, within
-- the days the clickstream covers. Bots aside, every purchase event counts here, consented or not:
-- only counts leave this model, and a missing consent must not look like a missing event.
with events as (

    select * from {{ ref('int_events_classified') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

purchase_events as (

    select
        store_id,
        order_id,
        min(event_date) as purchase_date
    from events
    where
        event_type = 'purchase'
        and order_id is not null
        and (exclusion_reason is null or exclusion_reason not in ('bot_user_agent', 'bot_behaviour'))
    group by
        store_id,
        order_id

),

clickstream_days as (

    select
        store_id,
        min(event_date) as first_date,
        max(event_date) as last_date
    from events
    group by store_id

),

placed_orders as (

    select
        orders.store_id,
        orders.order_id,
        orders.order_date,
        orders.has_captured_payment
    from orders
    inner join clickstream_days
        on
            orders.store_id = clickstream_days.store_id
            and orders.order_date between clickstream_days.first_date and clickstream_days.last_date

),

reconciled as (

    select
        coalesce(purchase_events.store_id, placed_orders.store_id) as store_id,
        coalesce(purchase_events.order_id, placed_orders.order_id) as order_id,
        coalesce(placed_orders.order_date, purchase_events.purchase_date) as date,
        purchase_events.order_id is not null as has_purchase_event,
        placed_orders.order_id is not null as has_order,
        coalesce(placed_orders.has_captured_payment, false) as has_captured_payment
    from purchase_events
    full outer join placed_orders
        on
            purchase_events.store_id = placed_orders.store_id
            and purchase_events.order_id = placed_orders.order_id

)

select
    *,
    case
        when not has_order then 'purchase_event_without_order'
        when not has_purchase_event then 'order_without_purchase_event'
    end as finding
from reconciled
