-- One row per non-cancelled order of a known customer, with the customer's order history and its
-- value net of every refund of the order (whenever refunded) and the cost of the goods the customer
-- kept, at the products' unit cost: units received back in a return go back to stock, so their
-- cost leaves the order's COGS, except damaged ones, which are written off.
with orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

order_items as (

    select * from {{ ref('int_order_items_converted_to_usd') }}

),

products as (

    select * from {{ ref('stg_catalog__products') }}

),

returns as (

    select * from {{ ref('stg_logistics__returns') }}

),

item_costs as (

    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.quantity,
        products.unit_cost
    from order_items
    inner join products
        on order_items.product_id = products.product_id

),

-- The cost of every unit sold, less that of every unit received back undamaged.
kept_costs as (

    select
        order_id,
        quantity * unit_cost as kept_cost
    from item_costs
    union all
    select
        returns.order_id,
        -returns.quantity * item_costs.unit_cost as kept_cost
    from returns
    inner join item_costs
        on returns.order_item_id = item_costs.order_item_id
    where
        returns.status = 'received'
        and returns.reason != 'damaged'

),

cost_per_order as (

    select
        order_id,
        sum(kept_cost) as cogs
    from kept_costs
    group by order_id

),

valued as (

    select
        orders.order_id,
        orders.store_id,
        orders.customer_id,
        orders.placed_at,
        orders.order_date,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as order_month,
        orders.currency,
        orders.has_refund,
        orders.gmv,
        orders.discounts,
        orders.refunded_amount,
        orders.gmv - orders.discounts - orders.refunded_amount as net_revenue,
        orders.gmv_usd - orders.discounts_usd - orders.refunded_amount_usd as net_revenue_usd,
        cast(coalesce(cost_per_order.cogs, 0) as decimal(18, 2)) as cogs,
        {{ to_usd('coalesce(cost_per_order.cogs, 0)', 'orders.usd_per_unit') }} as cogs_usd,
        row_number() over (
            partition by orders.customer_id
            order by orders.placed_at, orders.order_id
        ) as customer_order_number
    from orders
    left join cost_per_order
        on orders.order_id = cost_per_order.order_id
    -- an order whose customer id the retention purge cleared is no customer's history any more
    where not orders.is_cancelled and orders.customer_id is not null

)

select
    *,
    net_revenue - cogs as gross_margin,
    net_revenue_usd - cogs_usd as gross_margin_usd,
    customer_order_number = 1 as is_first_order,
    min(order_date) over (partition by customer_id) as first_order_date,
    min(order_month) over (partition by customer_id) as cohort_month
from valued
