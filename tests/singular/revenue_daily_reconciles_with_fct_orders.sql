-- GMV, discounts and orders of revenue_daily equal those of non-cancelled orders in fct_orders,
-- per store and local day, in both currencies. Returns the days that disagree.
with from_orders as (

    select
        store_id,
        order_date as date,
        count(*) as orders,
        sum(gmv) as gmv,
        sum(discounts) as discounts,
        sum(gmv_usd) as gmv_usd
    from {{ ref('fct_orders') }}
    where not is_cancelled
    group by store_id, order_date

),

from_revenue as (

    select
        store_id,
        date,
        orders,
        gmv,
        discounts,
        gmv_usd
    from {{ ref('revenue_daily') }}
    where orders > 0

)

select
    coalesce(from_orders.store_id, from_revenue.store_id) as store_id,
    coalesce(from_orders.date, from_revenue.date) as date
from from_orders
full outer join from_revenue
    on
        from_orders.store_id = from_revenue.store_id
        and from_orders.date = from_revenue.date
where
    from_orders.orders is distinct from from_revenue.orders
    or from_orders.gmv is distinct from from_revenue.gmv
    or from_orders.discounts is distinct from from_revenue.discounts
    or from_orders.gmv_usd is distinct from from_revenue.gmv_usd
