select
    payment_attempt_id,
    order_id,
    store_id,
    attempted_at,
    attempt_date,
    gateway,
    method,
    status,
    is_captured,
    decline_code,
    latency_ms,
    risk_score,
    currency,
    amount,
    amount_usd
from {{ ref('int_payment_attempts_converted_to_usd') }}
