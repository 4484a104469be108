-- Shown in Dagster as a check of kpis_daily_by_segment.
{{ config(meta={'dagster': {'ref': {'name': 'kpis_daily_by_segment'}}}) }}

-- Region split kpis_daily_by_segment without moving a number: per store, day and region its
-- sessions equal fct_sessions' and its orders, GMV, delivered and returned orders equal
-- fct_orders' (placed, non-cancelled); and summed over regions, each segment of before (platform,
-- channel group, device type, country) keeps the sessions fct_sessions counts in it. Returns the
-- groups (`region:<r>` or `segment:<s>`) that disagree.
with segment_rows as (

    select
        *,
        platform || '|' || channel_group || '|' || device_type || '|' || country as segment
    from {{ ref('kpis_daily_by_segment') }}

),

sessions as (

    select
        *,
        platform
        || '|' || coalesce(channel_group, '(unattributed)')
        || '|' || coalesce(device_type, '(unknown)')
        || '|' || coalesce(country, '(unknown)') as segment
    from {{ ref('fct_sessions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where not is_cancelled

),

mart_side as (

    select
        store_id,
        date,
        'region:' || region as grp,
        sum(sessions) as sessions,
        sum(orders) as orders,
        sum(gmv) as gmv,
        sum(orders_delivered) as orders_delivered,
        sum(orders_returned) as orders_returned
    from segment_rows
    group by store_id, date, region
    union all
    select
        store_id,
        date,
        'segment:' || segment as grp,
        sum(sessions) as sessions,
        0 as orders,
        0 as gmv,
        0 as orders_delivered,
        0 as orders_returned
    from segment_rows
    group by store_id, date, segment
    having sum(sessions) > 0

),

session_groups as (

    select
        store_id,
        session_date as date,
        'region:' || region as grp
    from sessions
    union all
    select
        store_id,
        session_date as date,
        'segment:' || segment as grp
    from sessions

),

fact_rows as (

    select
        store_id,
        date,
        grp,
        1 as sessions,
        0 as orders,
        0 as gmv,
        0 as orders_delivered,
        0 as orders_returned
    from session_groups
    union all
    select
        store_id,
        order_date as date,
        'region:' || region as grp,
        0 as sessions,
        1 as orders,
        gmv,
        case when is_delivered then 1 else 0 end as orders_delivered,
        case when is_delivered and has_return then 1 else 0 end as orders_returned
    from orders

),

facts_side as (

    select
        store_id,
        date,
        grp,
        sum(sessions) as sessions,
        sum(orders) as orders,
        sum(gmv) as gmv,
        sum(orders_delivered) as orders_delivered,
        sum(orders_returned) as orders_returned
    from fact_rows
    group by store_id, date, grp

)

select
    coalesce(mart_side.store_id, facts_side.store_id) as store_id,
    coalesce(mart_side.date, facts_side.date) as date,
    coalesce(mart_side.grp, facts_side.grp) as grp
from mart_side
full outer join facts_side
    on
        mart_side.store_id = facts_side.store_id
        and mart_side.date = facts_side.date
        and mart_side.grp = facts_side.grp
where
    not {{ closed_by_purge('coalesce(mart_side.date, facts_side.date)') }}
    and (
        mart_side.sessions is distinct from facts_side.sessions
        or mart_side.orders is distinct from facts_side.orders
        or mart_side.gmv is distinct from facts_side.gmv
        or mart_side.orders_delivered is distinct from facts_side.orders_delivered
        or mart_side.orders_returned is distinct from facts_side.orders_returned
    )
