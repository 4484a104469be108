-- Store x local date x local hour: the additive measures of the placed, non-cancelled orders, each
-- in the store-local hour it was placed. The finest grain of the sales process: kpis_hourly reads it
-- as it is, int_sales_daily sums it per day.
with orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

counted_orders as (

    select
        store_id,
        order_date,
        placed_at,
        items_sold,
        gmv,
        discounts,
        gmv_usd,
        discounts_usd,
        has_refund,
        is_delivered,
        has_return,
        -- a customer counts once a day, in the hour of their first order of the day, so the
        -- hours of a day sum to its distinct purchasers
        customer_id is not null
        and row_number() over (
            partition by store_id, order_date, customer_id
            order by placed_at
        ) = 1 as is_first_of_day
    from orders
    where not is_cancelled

)

select
    counted_orders.store_id,
    counted_orders.order_date as date,
    {{ local_hour('counted_orders.placed_at', 'stores.time_zone') }} as hour_of_day,
    count(*) as orders,
    cast(sum(counted_orders.items_sold) as {{ dbt.type_bigint() }}) as items_sold,
    count(case when counted_orders.is_first_of_day then 1 end) as first_purchasers_of_day,
    sum(counted_orders.gmv) as gmv,
    sum(counted_orders.discounts) as discounts,
    sum(counted_orders.gmv_usd) as gmv_usd,
    sum(counted_orders.discounts_usd) as discounts_usd,
    count(case when counted_orders.has_refund then 1 end) as orders_refunded,
    count(case when counted_orders.is_delivered then 1 end) as orders_delivered,
    count(case when counted_orders.is_delivered and counted_orders.has_return then 1 end) as orders_returned
from counted_orders
inner join stores
    on counted_orders.store_id = stores.store_id
group by 1, 2, 3
