-- Store x local date x local hour: sessions, orders, GMV and conversion rate for the last-24-hours
-- views. A session counts in the hour it started, an order in the hour it was placed, by the same
-- rules as kpis_daily (sessions of int_sessions_summarized, orders of int_sales_hourly), so a
-- day's hours add up to its kpis_daily row. Hours are the store's wall clock: the hour repeated
-- when clocks go back holds both, the hour skipped when they go forward has no row.
with stores as (

    select * from {{ ref('stg_oms__stores') }}

),

sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

sales as (

    select * from {{ ref('int_sales_hourly') }}

),

sessions_per_hour as (

    select
        sessions.store_id,
        sessions.session_date as date,
        {{ local_hour('sessions.started_at', 'stores.time_zone') }} as hour_of_day,
        count(*) as sessions,
        count(case when sessions.is_converted then 1 end) as converted_sessions
    from sessions
    inner join stores
        on sessions.store_id = stores.store_id
    group by 1, 2, 3

),

store_hours as (

    {{ store_day_spine(['sessions_per_hour', 'sales'], also=['hour_of_day']) | indent(4) }}

),

final as (

    select
        store_hours.store_id,
        store_hours.date,
        store_hours.hour_of_day,
        stores.currency,
        coalesce(sessions_per_hour.sessions, 0) as sessions,
        coalesce(sessions_per_hour.converted_sessions, 0) as converted_sessions,
        coalesce(sales.orders, 0) as orders,
        coalesce(sales.gmv, 0) as gmv,
        coalesce(sales.gmv_usd, 0) as gmv_usd
    from store_hours
    inner join stores
        on store_hours.store_id = stores.store_id
    left join sessions_per_hour
        on {{ spine_match('store_hours', 'sessions_per_hour', also=['hour_of_day']) }}
    left join sales
        on {{ spine_match('store_hours', 'sales', also=['hour_of_day']) }}

)

select
    *,
    {{ ratio('converted_sessions', 'sessions') }} as conversion_rate
from final
{{ open_days_only('date') }}
