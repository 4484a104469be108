-- Shown in Dagster as a check of kpis_daily_by_segment.
{{ config(meta={'dagster': {'ref': {'name': 'kpis_daily_by_segment'}}}) }}

-- The additive measures of kpis_daily_by_segment sum to kpis_daily per store and local day (over
-- every segment and region), but on days the retention purge closed: kpis_daily keeps those as
-- built, and the segments rebuilt from purged inputs (countries go after two years) may not.
with summed as (

    select
        store_id,
        date,
        sum(sessions) as sessions,
        sum(converted_sessions) as converted_sessions,
        sum(bounced_sessions) as bounced_sessions,
        sum(orders) as orders,
        sum(items_sold) as items_sold,
        sum(gmv) as gmv,
        sum(gmv_usd) as gmv_usd,
        sum(orders_delivered) as orders_delivered,
        sum(orders_returned) as orders_returned
    from {{ ref('kpis_daily_by_segment') }}
    group by store_id, date

),

daily as (

    select * from {{ ref('kpis_daily') }}
    where sessions > 0 or orders > 0

)

select
    coalesce(summed.store_id, daily.store_id) as store_id,
    coalesce(summed.date, daily.date) as date
from summed
full outer join daily
    on
        summed.store_id = daily.store_id
        and summed.date = daily.date
where
    not {{ closed_by_purge('coalesce(summed.date, daily.date)') }}
    and (
        summed.sessions is distinct from daily.sessions
        or summed.converted_sessions is distinct from daily.converted_sessions
        or summed.bounced_sessions is distinct from daily.bounced_sessions
        or summed.orders is distinct from daily.orders
        or summed.items_sold is distinct from daily.items_sold
        or summed.gmv is distinct from daily.gmv
        or summed.gmv_usd is distinct from daily.gmv_usd
        or summed.orders_delivered is distinct from daily.orders_delivered
        or summed.orders_returned is distinct from daily.orders_returned
    )
