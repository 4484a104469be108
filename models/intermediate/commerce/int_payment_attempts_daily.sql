-- Payment attempts per store-local attempt date, gateway and method: the one daily aggregate of
-- the payment process, which payments_daily carries as it is and kpis_daily sums per store-day.
-- Risk bands of the gateway's 0-100 score: low < 30 <= medium < 70 <= high; unscored when absent.
with attempts as (

    select * from {{ ref('int_payment_attempts_converted_to_usd') }}

)

select
    store_id,
    attempt_date as date,
    gateway,
    method,
    count(*) as attempts,
    count(case when is_captured then 1 end) as captured_attempts,
    count(case when status = 'failed' then 1 end) as failed_attempts,
    {%- for code in payment_decline_codes() %}
        count(case when decline_code = '{{ code }}' then 1 end) as declined_{{ code }},
    {%- endfor %}
    sum(amount) as attempted_amount,
    sum(case when is_captured then amount else 0 end) as captured_amount,
    sum(amount_usd) as attempted_amount_usd,
    sum(case when is_captured then amount_usd else 0 end) as captured_amount_usd,
    {{ percentile_cont('latency_ms', 0.5) }} as latency_p50_ms,
    {{ percentile_cont('latency_ms', 0.95) }} as latency_p95_ms,
    {{ percentile_cont('latency_ms', 0.99) }} as latency_p99_ms,
    count(case when risk_score < 30 then 1 end) as low_risk_attempts,
    count(case when risk_score >= 30 and risk_score < 70 then 1 end) as medium_risk_attempts,
    count(case when risk_score >= 70 then 1 end) as high_risk_attempts,
    count(case when risk_score is null then 1 end) as unscored_attempts
from attempts
group by
    store_id,
    attempt_date,
    gateway,
    method
