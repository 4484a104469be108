-- No high-class field: the customer is known here by the keyed hash of their id only.
with customers as (

    select * from {{ ref('stg_crm__customers') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

order_history as (

    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders
    from orders
    where not is_cancelled
    group by customer_id

)

select
    customers.customer_id,
    customers.store_id,
    customers.country,
    customers.city,
    customers.signup_channel,
    customers.created_at,
    order_history.first_order_date,
    order_history.last_order_date,
    coalesce(order_history.orders, 0) as orders
from customers
left join order_history
    on customers.customer_id = order_history.customer_id
