-- Each placed, non-cancelled order with the segment of the session that bought it (its first
-- session naming the order); orders no counted session names keep their own platform and fall in
-- the '(unattributed)' channel, so per-segment sums still equal the daily totals. The region is the
-- order's own (its billing address, int_orders_located), not the session's.
with orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

conversions as (

    select * from {{ ref('int_session_conversions') }}

),

sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

located as (

    select * from {{ ref('int_orders_located') }}

),

buying_sessions as (

    select
        store_id,
        order_id,
        min(session_id) as session_id
    from conversions
    group by
        store_id,
        order_id

)

select
    orders.order_id,
    orders.store_id,
    orders.order_date,
    buying_sessions.session_id,
    coalesce(sessions.platform, orders.platform) as platform,
    coalesce(sessions.channel_group, '(unattributed)') as channel_group,
    coalesce(sessions.device_type, '(unknown)') as device_type,
    coalesce(sessions.country, '(unknown)') as country,
    coalesce(located.region, 'unknown') as region,
    orders.is_delivered,
    orders.is_delivered and orders.has_return as is_returned,
    orders.items_sold,
    orders.gmv,
    orders.gmv_usd,
    orders.discounts,
    orders.discounts_usd
from orders
left join buying_sessions
    on
        orders.store_id = buying_sessions.store_id
        and orders.order_id = buying_sessions.order_id
left join sessions
    on buying_sessions.session_id = sessions.session_id
left join located
    on orders.order_id = located.order_id
where not orders.is_cancelled
