with source as (

    select * from {{ raw_source('logistics', 'returns') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'return_id', '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        return_id,
        order_id,
        order_item_id,
        store_id,
        requested_at,
        received_at,
        quantity,
        reason,
        status,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
