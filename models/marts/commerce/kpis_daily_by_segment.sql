-- Additive measures only: distinct counts (visitors) do not sum across segments. The region is the
-- session's customer's for sessions and the billing address's for orders (returns by the order's).
{% set segment = ['platform', 'channel_group', 'device_type', 'country', 'region'] %}

with sessions as (

    select * from {{ ref('int_sessions_daily') }}

),

orders as (

    select * from {{ ref('int_orders_attributed_daily') }}

),

segments as (

    {{ store_day_spine(['sessions', 'orders'], also=segment) | indent(4) }}

),

final as (

    select
        segments.store_id,
        segments.date,
        segments.platform,
        segments.channel_group,
        segments.device_type,
        segments.country,
        segments.region,
        coalesce(sessions.sessions, 0) as sessions,
        coalesce(sessions.converted_sessions, 0) as converted_sessions,
        coalesce(sessions.bounced_sessions, 0) as bounced_sessions,
        coalesce(sessions.page_views, 0) as page_views,
        coalesce(sessions.session_seconds, 0) as session_seconds,
        coalesce(orders.orders, 0) as orders,
        coalesce(orders.items_sold, 0) as items_sold,
        coalesce(orders.gmv, 0) as gmv,
        coalesce(orders.gmv_usd, 0) as gmv_usd,
        coalesce(orders.discounts, 0) as discounts,
        coalesce(orders.discounts_usd, 0) as discounts_usd,
        coalesce(orders.orders_delivered, 0) as orders_delivered,
        coalesce(orders.orders_returned, 0) as orders_returned
    from segments
    left join sessions
        on {{ spine_match('segments', 'sessions', also=segment) }}
    left join orders
        on {{ spine_match('segments', 'orders', also=segment) }}

)

select
    *,
    {{ ratio('converted_sessions', 'sessions') }} as conversion_rate,
    {{ ratio('gmv', 'orders') }} as aov,
    {{ ratio('orders_returned', 'orders_delivered') }} as return_rate
from final
