with sales as (

    select * from {{ ref('int_sales_daily') }}

)

select
    store_id,
    date,
    currency,
    orders,
    gmv,
    discounts,
    refunds,
    gmv_usd,
    discounts_usd,
    refunds_usd,
    net_revenue,
    net_revenue_usd
from sales
