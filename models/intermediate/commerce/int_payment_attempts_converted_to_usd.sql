with payments as (

    select * from {{ ref('stg_oms__payment_attempts') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

)

select
    payments.payment_attempt_id,
    payments.order_id,
    payments.store_id,
    payments.attempted_at,
    {{ local_date('payments.attempted_at', 'stores.time_zone') }} as attempt_date,
    payments.gateway,
    payments.method,
    payments.status,
    payments.status = 'captured' as is_captured,
    payments.decline_code,
    payments.latency_ms,
    payments.risk_score,
    payments.currency,
    payments.amount,
    {{ to_usd('payments.amount', 'orders.usd_per_unit') }} as amount_usd
from payments
inner join stores
    on payments.store_id = stores.store_id
left join orders
    on payments.order_id = orders.order_id
