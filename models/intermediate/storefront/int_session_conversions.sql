-- The orders a session's purchase events name, with the backend's verdict: a session converts
-- when one of its orders has a captured payment (METRICS.md conversion rate).
with events as (

    select * from {{ ref('int_events_sessionized') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

purchases as (

    select distinct
        session_id,
        store_id,
        event_date,
        order_id
    from events
    where event_type = 'purchase' and order_id is not null

)

select
    purchases.session_id,
    purchases.store_id,
    purchases.event_date as session_date,
    purchases.order_id,
    orders.order_id is not null as has_order,
    coalesce(orders.has_captured_payment and not orders.is_cancelled, false) as is_captured,
    orders.captured_at,
    orders.gmv,
    orders.gmv_usd,
    orders.source_landed_at
from purchases
left join orders
    on
        purchases.store_id = orders.store_id
        and purchases.order_id = orders.order_id
