-- Store x local date: every KPI of METRICS.md with a daily meaning, each rate beside the
-- additive columns it is computed from, NULL when its denominator is 0.
with stores as (

    select * from {{ ref('stg_oms__stores') }}

),

sales as (

    select * from {{ ref('int_sales_daily') }}

),

sessions as (

    select * from {{ ref('int_sessions_daily') }}

),

sessions_summarized as (

    select * from {{ ref('int_sessions_summarized') }}

),

carts as (

    select * from {{ ref('int_carts_daily') }}

),

payments as (

    select * from {{ ref('int_payment_attempts_daily') }}

),

shipments as (

    select * from {{ ref('int_shipments_daily') }}

),

searches as (

    select * from {{ ref('int_searches_daily') }}

),

recommendations as (

    select * from {{ ref('int_recommendations_daily') }}

),

active_visitors as (

    select * from {{ ref('int_visitors_active_daily') }}

),

sessions_per_day as (

    select
        store_id,
        date,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(converted_sessions) as {{ dbt.type_bigint() }}) as converted_sessions,
        cast(sum(bounced_sessions) as {{ dbt.type_bigint() }}) as bounced_sessions,
        sum(session_seconds) as session_seconds
    from sessions
    group by
        store_id,
        date

),

-- distinct visitors do not add up across the segments of int_sessions_daily
visitors_per_day as (

    select
        store_id,
        session_date as date,
        count(distinct visitor_id) as visitors
    from sessions_summarized
    group by
        store_id,
        session_date

),

payments_per_day as (

    select
        store_id,
        date,
        cast(sum(captured_attempts) as {{ dbt.type_bigint() }}) as payments_captured,
        cast(sum(failed_attempts) as {{ dbt.type_bigint() }}) as payments_failed
    from payments
    group by
        store_id,
        date

),

shipments_per_day as (

    select
        store_id,
        date,
        cast(sum(shipments) as {{ dbt.type_bigint() }}) as shipments,
        cast(sum(shipments_returned_to_origin) as {{ dbt.type_bigint() }}) as shipments_returned_to_origin,
        cast(sum(shipments_delivered) as {{ dbt.type_bigint() }}) as shipments_delivered,
        cast(sum(shipments_on_time) as {{ dbt.type_bigint() }}) as shipments_on_time,
        cast(sum(shipments_first_attempt) as {{ dbt.type_bigint() }}) as shipments_first_attempt,
        sum(delivery_hours) as delivery_hours
    from shipments
    group by
        store_id,
        date

),

searches_per_day as (

    select
        store_id,
        date,
        cast(sum(searches) as {{ dbt.type_bigint() }}) as searches,
        cast(sum(zero_result_searches) as {{ dbt.type_bigint() }}) as zero_result_searches
    from searches
    group by
        store_id,
        date

),

recommendations_per_day as (

    select
        store_id,
        date,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as recommendation_impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as recommendation_clicks
    from recommendations
    group by
        store_id,
        date

),

store_days as (

    {{ store_day_spine(['sales', 'sessions_per_day', 'carts', 'payments_per_day', 'shipments_per_day']) | indent(4) }}

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
        coalesce(visitors_per_day.visitors, 0) as visitors,
        coalesce(sessions_per_day.converted_sessions, 0) as converted_sessions,
        coalesce(sessions_per_day.bounced_sessions, 0) as bounced_sessions,
        coalesce(sessions_per_day.session_seconds, 0) as session_seconds,
        coalesce(carts.carts_created, 0) as carts_created,
        coalesce(carts.carts_abandoned, 0) as carts_abandoned,
        coalesce(carts.carts_open, 0) as carts_open,
        coalesce(payments_per_day.payments_captured, 0) as payments_captured,
        coalesce(payments_per_day.payments_failed, 0) as payments_failed,
        coalesce(shipments_per_day.shipments, 0) as shipments,
        coalesce(shipments_per_day.shipments_returned_to_origin, 0) as shipments_returned_to_origin,
        coalesce(shipments_per_day.shipments_delivered, 0) as shipments_delivered,
        coalesce(shipments_per_day.shipments_on_time, 0) as shipments_on_time,
        coalesce(shipments_per_day.shipments_first_attempt, 0) as shipments_first_attempt,
        coalesce(shipments_per_day.delivery_hours, 0) as delivery_hours,
        coalesce(searches_per_day.searches, 0) as searches,
        coalesce(searches_per_day.zero_result_searches, 0) as zero_result_searches,
        coalesce(recommendations_per_day.recommendation_impressions, 0) as recommendation_impressions,
        coalesce(recommendations_per_day.recommendation_clicks, 0) as recommendation_clicks,
        coalesce(active_visitors.dau, 0) as dau,
        coalesce(active_visitors.wau, 0) as wau,
        coalesce(active_visitors.mau, 0) as mau
    from store_days
    inner join stores
        on store_days.store_id = stores.store_id
    left join sales
        on {{ spine_match('store_days', 'sales') }}
    left join sessions_per_day
        on {{ spine_match('store_days', 'sessions_per_day') }}
    left join visitors_per_day
        on {{ spine_match('store_days', 'visitors_per_day') }}
    left join carts
        on {{ spine_match('store_days', 'carts') }}
    left join payments_per_day
        on {{ spine_match('store_days', 'payments_per_day') }}
    left join shipments_per_day
        on {{ spine_match('store_days', 'shipments_per_day') }}
    left join searches_per_day
        on {{ spine_match('store_days', 'searches_per_day') }}
    left join recommendations_per_day
        on {{ spine_match('store_days', 'recommendations_per_day') }}
    left join active_visitors
        on {{ spine_match('store_days', 'active_visitors') }}

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
{{ open_days_only('date', 29) }}
