with source as (

    select * from {{ raw_source('returns') }}

),

deduplicated as (

    -- re-exported on change: the latest received row wins
    {{ deduplicate('source', 'return_id', '_landed_at desc, _row_number desc') | indent(4) }}

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
