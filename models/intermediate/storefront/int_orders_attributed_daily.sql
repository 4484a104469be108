-- Orders per store-local order date, the segment of the session that bought them (platform,
-- channel group, device type, country; `(unattributed)` without one) and the region of their
-- billing address: the one daily aggregate of attributed orders (platform_performance_daily and
-- kpis_daily_by_segment sum it).
with orders as (

    select * from {{ ref('int_orders_attributed') }}

)

select
    store_id,
    order_date as date,
    platform,
    channel_group,
    device_type,
    country,
    region,
    count(*) as orders,
    count(case when is_delivered then 1 end) as orders_delivered,
    count(case when is_returned then 1 end) as orders_returned,
    cast(sum(items_sold) as {{ dbt.type_bigint() }}) as items_sold,
    sum(gmv) as gmv,
    sum(gmv_usd) as gmv_usd,
    sum(discounts) as discounts,
    sum(discounts_usd) as discounts_usd
from orders
group by
    store_id,
    order_date,
    platform,
    channel_group,
    device_type,
    country,
    region
