-- Store x local date: every KPI of METRICS.md with a daily meaning, each rate beside the
-- additive columns it is computed from, NULL when its denominator is 0.
with stores as (

    select * from {{ ref('stg_oms__stores') }}

),

sales as (

    select * from {{ ref('int_sales_daily') }}

),

sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

carts as (

    select * from {{ ref('int_carts_evaluated') }}

),

payments as (

    select * from {{ ref('int_payment_attempts_converted_to_usd') }}

),

shipments as (

    select * from {{ ref('int_shipments_evaluated') }}

),

events as (

    select * from {{ ref('int_events_sessionized') }}

),

active_visitors as (

    select * from {{ ref('int_visitors_active_daily') }}

),

sessions_per_day as (

    select
        store_id,
        session_date as date,
        count(*) as sessions,
        count(distinct visitor_id) as visitors,
        count(case when is_converted then 1 end) as converted_sessions,
        count(case when is_bounce then 1 end) as bounced_sessions,
        sum(duration_seconds) as session_seconds
    from sessions
    group by
        store_id,
        session_date

),

carts_per_day as (

    select
        store_id,
        created_date as date,
        count(*) as carts_created,
        count(case when status = 'abandoned' then 1 end) as carts_abandoned,
        count(case when status = 'open' then 1 end) as carts_open
    from carts
    group by
        store_id,
        created_date

),

payments_per_day as (

    select
        store_id,
        attempt_date as date,
        count(case when status = 'captured' then 1 end) as payments_captured,
        count(case when status = 'failed' then 1 end) as payments_failed
    from payments
    group by
        store_id,
        attempt_date

),

shipments_per_day as (

    select
        store_id,
        ship_date as date,
        count(*) as shipments,
        count(case when is_returned_to_origin then 1 end) as shipments_returned_to_origin,
        count(case when is_delivered then 1 end) as shipments_delivered,
        count(case when is_on_time then 1 end) as shipments_on_time,
        count(case when is_first_attempt then 1 end) as shipments_first_attempt,
        sum(delivery_hours) as delivery_hours
    from shipments
    group by
        store_id,
        ship_date

),

discovery_per_day as (

    select
        store_id,
        event_date as date,
        count(case when event_type = 'search' then 1 end) as searches,
        count(case when event_type = 'search' and results_count = 0 then 1 end) as zero_result_searches,
        count(case when event_type = 'recommendation_impression' then 1 end) as recommendation_impressions,
        count(case when event_type = 'recommendation_click' then 1 end) as recommendation_clicks
    from events
    group by
        store_id,
        event_date

),

store_days as (

    select
        store_id,
        date
    from sales
    union
    select
        store_id,
        date
    from sessions_per_day
    union
    select
        store_id,
        date
    from carts_per_day
    union
    select
        store_id,
        date
    from payments_per_day
    union
    select
        store_id,
        date
    from shipments_per_day

),

measures as (

    select
        store_days.store_id,
        store_days.date,
        stores.currency,
        coalesce(sales.orders, 0) as orders,
        coalesce(sales.items_sold, 0) as items_sold,
        coalesce(sales.unique_purchasers, 0) as unique_purchasers,
        coalesce(sales.gmv, 0) as gmv,
        coalesce(sales.discounts, 0) as discounts,
        coalesce(sales.refunds, 0) as refunds,
        coalesce(sales.net_revenue, 0) as net_revenue,
        coalesce(sales.gmv_usd, 0) as gmv_usd,
        coalesce(sales.discounts_usd, 0) as discounts_usd,
        coalesce(sales.refunds_usd, 0) as refunds_usd,
        coalesce(sales.net_revenue_usd, 0) as net_revenue_usd,
        coalesce(sales.orders_refunded, 0) as orders_refunded,
        coalesce(sales.orders_delivered, 0) as orders_delivered,
        coalesce(sales.orders_returned, 0) as orders_returned,
        coalesce(sessions_per_day.sessions, 0) as sessions,
        coalesce(sessions_per_day.visitors, 0) as visitors,
        coalesce(sessions_per_day.converted_sessions, 0) as converted_sessions,
        coalesce(sessions_per_day.bounced_sessions, 0) as bounced_sessions,
        coalesce(sessions_per_day.session_seconds, 0) as session_seconds,
        coalesce(carts_per_day.carts_created, 0) as carts_created,
        coalesce(carts_per_day.carts_abandoned, 0) as carts_abandoned,
        coalesce(carts_per_day.carts_open, 0) as carts_open,
        coalesce(payments_per_day.payments_captured, 0) as payments_captured,
        coalesce(payments_per_day.payments_failed, 0) as payments_failed,
        coalesce(shipments_per_day.shipments, 0) as shipments,
        coalesce(shipments_per_day.shipments_returned_to_origin, 0) as shipments_returned_to_origin,
        coalesce(shipments_per_day.shipments_delivered, 0) as shipments_delivered,
        coalesce(shipments_per_day.shipments_on_time, 0) as shipments_on_time,
        coalesce(shipments_per_day.shipments_first_attempt, 0) as shipments_first_attempt,
        coalesce(shipments_per_day.delivery_hours, 0) as delivery_hours,
        coalesce(discovery_per_day.searches, 0) as searches,
        coalesce(discovery_per_day.zero_result_searches, 0) as zero_result_searches,
        coalesce(discovery_per_day.recommendation_impressions, 0) as recommendation_impressions,
        coalesce(discovery_per_day.recommendation_clicks, 0) as recommendation_clicks,
        coalesce(active_visitors.dau, 0) as dau,
        coalesce(active_visitors.wau, 0) as wau,
        coalesce(active_visitors.mau, 0) as mau
    from store_days
    inner join stores
        on store_days.store_id = stores.store_id
    left join sales
        on store_days.store_id = sales.store_id and store_days.date = sales.date
    left join sessions_per_day
        on store_days.store_id = sessions_per_day.store_id and store_days.date = sessions_per_day.date
    left join carts_per_day
        on store_days.store_id = carts_per_day.store_id and store_days.date = carts_per_day.date
    left join payments_per_day
        on store_days.store_id = payments_per_day.store_id and store_days.date = payments_per_day.date
    left join shipments_per_day
        on store_days.store_id = shipments_per_day.store_id and store_days.date = shipments_per_day.date
    left join discovery_per_day
        on store_days.store_id = discovery_per_day.store_id and store_days.date = discovery_per_day.date
    left join active_visitors
        on store_days.store_id = active_visitors.store_id and store_days.date = active_visitors.date

),

final as (

    select
        *,
        {{ ratio('gmv', 'orders') }} as aov,
        {{ ratio('gmv_usd', 'orders') }} as aov_usd,
        {{ ratio('gmv', 'unique_purchasers') }} as arpu,
        {{ ratio('gmv_usd', 'unique_purchasers') }} as arpu_usd,
        {{ ratio('converted_sessions', 'sessions') }} as conversion_rate,
        {{ ratio('bounced_sessions', 'sessions') }} as bounce_rate,
        {{ ratio('session_seconds', 'sessions') }} as avg_session_duration_seconds,
        {{ ratio('carts_abandoned', 'carts_created - carts_open') }} as cart_abandonment_rate,
        {{ ratio('payments_captured', 'payments_captured + payments_failed') }} as payment_success_rate,
        {{ ratio('orders_refunded', 'orders') }} as refund_rate,
        {{ ratio('orders_returned', 'orders_delivered') }} as return_rate,
        {{ ratio('shipments_returned_to_origin', 'shipments') }} as rto_rate,
        {{ ratio('shipments_on_time', 'shipments_delivered') }} as on_time_delivery_rate,
        {{ ratio('shipments_first_attempt', 'shipments_delivered') }} as first_attempt_delivery_rate,
        {{ ratio('delivery_hours', 'shipments_delivered') }} as avg_delivery_hours,
        {{ ratio('zero_result_searches', 'searches') }} as zero_result_rate,
        {{ ratio('recommendation_clicks', 'recommendation_impressions') }} as recommendation_ctr
    from measures

)

select * from final
{%- if is_incremental() %}
-- days the retention purge closed keep the rows built before it
where not {{ closed_by_purge('date', trailing_days=29) }}
{%- endif %}
