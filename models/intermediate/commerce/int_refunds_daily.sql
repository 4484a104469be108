-- Refunds per store-local refund date and the gateway and method of the refunded order's payment:
-- the one daily aggregate of refunds (payments_daily carries it). An order's payment is its
-- captured attempt, else its latest one; 'none' when the order has no attempt.
with refunds as (

    select * from {{ ref('int_refunds_converted_to_usd') }}

),

attempts as (

    select * from {{ ref('int_payment_attempts_converted_to_usd') }}

),

order_gateways as (

    select
        order_id,
        gateway,
        method
    from (
        select
            order_id,
            gateway,
            method,
            row_number() over (
                partition by order_id
                order by case when is_captured then 0 else 1 end asc, attempted_at desc, payment_attempt_id asc
            ) as attempt_rank
        from attempts
    ) as ranked
    where attempt_rank = 1

)

select
    refunds.store_id,
    refunds.refund_date as date,
    coalesce(order_gateways.gateway, 'none') as gateway,
    coalesce(order_gateways.method, 'none') as method,  -- noqa: RF04
    count(*) as refunds,
    count(case when refunds.refund_type = 'partial' then 1 end) as partial_refunds,
    sum(refunds.amount) as refunded_amount,
    sum(case when refunds.refund_type = 'partial' then refunds.amount else 0 end) as partially_refunded_amount,
    sum(refunds.amount_usd) as refunded_amount_usd,
    sum(case when refunds.refund_type = 'partial' then refunds.amount_usd else 0 end)
        as partially_refunded_amount_usd
from refunds
left join order_gateways
    on refunds.order_id = order_gateways.order_id
group by
    refunds.store_id,
    refunds.refund_date,
    coalesce(order_gateways.gateway, 'none'),
    coalesce(order_gateways.method, 'none')
