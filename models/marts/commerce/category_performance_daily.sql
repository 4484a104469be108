with order_items as (

    select * from {{ ref('int_order_items_converted_to_usd') }}

),

products as (

    select * from {{ ref('stg_catalog__products') }}

),

per_category as (

    select
        order_items.store_id,
        order_items.order_date as date,
        coalesce(products.category, '(unknown)') as category,
        count(distinct order_items.order_id) as orders,
        cast(sum(order_items.quantity) as {{ dbt.type_bigint() }}) as units_sold,
        sum(order_items.line_gmv) as gmv,
        sum(order_items.line_gmv_usd) as gmv_usd
    from order_items
    left join products
        on order_items.product_id = products.product_id
    where not order_items.is_cancelled
    group by
        order_items.store_id,
        order_items.order_date,
        coalesce(products.category, '(unknown)')

)

select
    *,
    -- 1 = the store's best-selling category of the day by GMV; ties share a rank
    rank() over (partition by store_id, date order by gmv desc) as gmv_rank
from per_category
