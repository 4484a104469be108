-- Store x local date: the additive sales measures of METRICS.md. Orders count on their local
-- order date (int_sales_hourly's hours summed), refunds on the refund's local date (so a refund
-- after the period closed lands on its own day and never rewrites a closed one).
with sales as (

    select * from {{ ref('int_sales_hourly') }}

),

refunds as (

    select * from {{ ref('int_refunds_converted_to_usd') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

sales_per_day as (

    -- the day's hours summed (counts cast back to bigint: a sum of bigints is wider on DuckDB)
    select
        store_id,
        date,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as orders,
        cast(sum(items_sold) as {{ dbt.type_bigint() }}) as items_sold,
        cast(sum(first_purchasers_of_day) as {{ dbt.type_bigint() }}) as unique_purchasers,
        sum(gmv) as gmv,
        sum(discounts) as discounts,
        sum(gmv_usd) as gmv_usd,
        sum(discounts_usd) as discounts_usd,
        cast(sum(orders_refunded) as {{ dbt.type_bigint() }}) as orders_refunded,
        cast(sum(orders_delivered) as {{ dbt.type_bigint() }}) as orders_delivered,
        cast(sum(orders_returned) as {{ dbt.type_bigint() }}) as orders_returned
    from sales
    group by
        store_id,
        date

),

refunds_per_day as (

    select
        store_id,
        refund_date as date,
        sum(amount) as refunds,
        sum(amount_usd) as refunds_usd
    from refunds
    where not is_cancelled_order
    group by
        store_id,
        refund_date

),

store_days as (

    {{ store_day_spine(['sales_per_day', 'refunds_per_day']) | indent(4) }}

),

totals as (

    select
        store_days.store_id,
        store_days.date,
        stores.currency,
        coalesce(sales_per_day.orders, 0) as orders,
        coalesce(sales_per_day.items_sold, 0) as items_sold,
        coalesce(sales_per_day.unique_purchasers, 0) as unique_purchasers,
        coalesce(sales_per_day.orders_refunded, 0) as orders_refunded,
        coalesce(sales_per_day.orders_delivered, 0) as orders_delivered,
        coalesce(sales_per_day.orders_returned, 0) as orders_returned,
        coalesce(sales_per_day.gmv, 0) as gmv,
        coalesce(sales_per_day.discounts, 0) as discounts,
        coalesce(refunds_per_day.refunds, 0) as refunds,
        coalesce(sales_per_day.gmv_usd, 0) as gmv_usd,
        coalesce(sales_per_day.discounts_usd, 0) as discounts_usd,
        coalesce(refunds_per_day.refunds_usd, 0) as refunds_usd
    from store_days
    inner join stores
        on store_days.store_id = stores.store_id
    left join sales_per_day
        on {{ spine_match('store_days', 'sales_per_day') }}
    left join refunds_per_day
        on {{ spine_match('store_days', 'refunds_per_day') }}

)

select
    *,
    gmv - discounts - refunds as net_revenue,
    gmv_usd - discounts_usd - refunds_usd as net_revenue_usd
from totals
