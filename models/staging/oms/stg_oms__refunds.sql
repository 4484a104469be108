with source as (

    select * from {{ raw_source('oms', 'refunds') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'refund_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        refund_id,
        order_id,
        store_id,
        refunded_at,
        amount,
        currency,
        refund_type,
        reason,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
