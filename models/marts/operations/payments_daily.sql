-- Per store-local day, gateway and method: payment attempts (int_payment_attempts_daily, dated by
-- the attempt), refunds (int_refunds_daily, by the refund's date) and chargebacks
-- (int_chargebacks_daily, by the day the dispute opened), each attributed to a gateway there. The
-- payment success rate is kpis_daily's, under the same name.
with attempts_per_day as (

    select * from {{ ref('int_payment_attempts_daily') }}

),

refunds_per_day as (

    select * from {{ ref('int_refunds_daily') }}

),

chargebacks_per_day as (

    select * from {{ ref('int_chargebacks_daily') }}

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
    {%- for code in payment_decline_codes() %}
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
