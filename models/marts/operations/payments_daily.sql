-- Per store-local day, gateway and method: payment attempts (int_payment_attempts_daily, dated by
-- the attempt), refunds (by the refund's date) and chargebacks (by the day the dispute opened).
-- Refunds are attributed to the gateway and method of the order's captured payment, or of its
-- latest attempt when none was captured; chargebacks to the disputed attempt. Amounts in USD at
-- the rate of the order's date. The payment success rate is kpis_daily's, under the same name.
{% set decline_codes = [
    'insufficient_funds', 'do_not_honor', 'expired_card', 'fraud_suspected', 'authentication_failed',
    'processing_error'
] %}

with attempts_per_day as (

    select * from {{ ref('int_payment_attempts_daily') }}

),

attempts as (

    select * from {{ ref('int_payment_attempts_converted_to_usd') }}

),

refunds as (

    select * from {{ ref('int_refunds_converted_to_usd') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

chargebacks as (

    {{ with_local_date(ref('stg_oms__chargebacks'), 'opened_at', 'opened_date') | indent(4) }}

),

order_gateways as (

    -- the captured attempt, else the latest one
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

),

refunds_per_day as (

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

),

chargebacks_per_day as (

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

),

keys as (

    {{ store_day_spine(['attempts_per_day', 'refunds_per_day', 'chargebacks_per_day'], also=['gateway', 'method'])
        | indent(4) }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

)

select
    keys.store_id,
    keys.date,
    keys.gateway,
    keys.method,
    stores.currency,
    coalesce(attempts_per_day.attempts, 0) as attempts,
    coalesce(attempts_per_day.captured_attempts, 0) as captured_attempts,
    coalesce(attempts_per_day.failed_attempts, 0) as failed_attempts,
    {{ ratio(
        'attempts_per_day.captured_attempts',
        'attempts_per_day.captured_attempts + attempts_per_day.failed_attempts'
    ) }} as payment_success_rate,
    {%- for code in decline_codes %}
        coalesce(attempts_per_day.declined_{{ code }}, 0) as declined_{{ code }},
    {%- endfor %}
    coalesce(attempts_per_day.attempted_amount, 0) as attempted_amount,
    coalesce(attempts_per_day.captured_amount, 0) as captured_amount,
    coalesce(attempts_per_day.attempted_amount_usd, 0) as attempted_amount_usd,
    coalesce(attempts_per_day.captured_amount_usd, 0) as captured_amount_usd,
    attempts_per_day.latency_p50_ms,
    attempts_per_day.latency_p95_ms,
    attempts_per_day.latency_p99_ms,
    coalesce(attempts_per_day.low_risk_attempts, 0) as low_risk_attempts,
    coalesce(attempts_per_day.medium_risk_attempts, 0) as medium_risk_attempts,
    coalesce(attempts_per_day.high_risk_attempts, 0) as high_risk_attempts,
    coalesce(attempts_per_day.unscored_attempts, 0) as unscored_attempts,
    coalesce(refunds_per_day.refunds, 0) as refunds,
    coalesce(refunds_per_day.partial_refunds, 0) as partial_refunds,
    coalesce(refunds_per_day.refunded_amount, 0) as refunded_amount,
    coalesce(refunds_per_day.partially_refunded_amount, 0) as partially_refunded_amount,
    coalesce(refunds_per_day.refunded_amount_usd, 0) as refunded_amount_usd,
    coalesce(refunds_per_day.partially_refunded_amount_usd, 0) as partially_refunded_amount_usd,
    coalesce(chargebacks_per_day.chargebacks, 0) as chargebacks,
    coalesce(chargebacks_per_day.chargebacks_lost, 0) as chargebacks_lost,
    coalesce(chargebacks_per_day.chargeback_amount, 0) as chargeback_amount,
    coalesce(chargebacks_per_day.chargeback_amount_usd, 0) as chargeback_amount_usd
from keys
inner join stores
    on keys.store_id = stores.store_id
left join attempts_per_day
    on {{ spine_match('keys', 'attempts_per_day', also=['gateway', 'method']) }}
left join refunds_per_day
    on {{ spine_match('keys', 'refunds_per_day', also=['gateway', 'method']) }}
left join chargebacks_per_day
    on {{ spine_match('keys', 'chargebacks_per_day', also=['gateway', 'method']) }}
