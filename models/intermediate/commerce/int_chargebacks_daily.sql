-- Chargebacks per store-local day the dispute opened and the gateway and method of the disputed
-- attempt ('none' without one): the one daily aggregate of disputes (payments_daily carries it).
-- Amounts in USD at the rate of the order's date.
with chargebacks as (

    {{ with_local_date(ref('stg_oms__chargebacks'), 'opened_at', 'opened_date') | indent(4) }}

),

attempts as (

    select * from {{ ref('int_payment_attempts_converted_to_usd') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

)

select
    chargebacks.store_id,
    chargebacks.opened_date as date,
    coalesce(attempts.gateway, 'none') as gateway,
    coalesce(attempts.method, 'none') as method,  -- noqa: RF04
    count(*) as chargebacks,
    count(case when chargebacks.status = 'lost' then 1 end) as chargebacks_lost,
    sum(chargebacks.amount) as chargeback_amount,
    sum({{ to_usd('chargebacks.amount', 'orders.usd_per_unit') }}) as chargeback_amount_usd
from chargebacks
left join attempts
    on chargebacks.payment_attempt_id = attempts.payment_attempt_id
left join orders
    on chargebacks.order_id = orders.order_id
group by
    chargebacks.store_id,
    chargebacks.opened_date,
    coalesce(attempts.gateway, 'none'),
    coalesce(attempts.method, 'none')
