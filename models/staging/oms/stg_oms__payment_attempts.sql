with source as (

    select * from {{ raw_source('oms', 'payment_attempts') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'payment_attempt_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        payment_attempt_id,
        order_id,
        store_id,
        attempted_at,
        gateway,
        method,
        status,
        decline_code,
        amount,
        currency,
        latency_ms,
        risk_score,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
