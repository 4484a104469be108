with source as (

    select * from {{ raw_source('crm', 'loyalty_transactions') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'loyalty_transaction_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        loyalty_transaction_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        transaction_type,
        points,
        order_id,
        occurred_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
