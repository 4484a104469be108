select
    refund_id,
    order_id,
    store_id,
    refunded_at,
    refund_date,
    order_date,
    refund_type,
    reason,
    currency,
    amount,
    amount_usd
from {{ ref('int_refunds_converted_to_usd') }}
