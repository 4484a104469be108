with source as (

    select * from {{ raw_source('oms', 'chargebacks') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'chargeback_id', '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        chargeback_id,
        payment_attempt_id,
        order_id,
        store_id,
        opened_at,
        amount,
        currency,
        reason_code,
        status,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
