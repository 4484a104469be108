with source as (

    select * from {{ raw_source('discount_codes') }}

),

deduplicated as (

    -- re-exported on change: the latest received row wins
    {{ deduplicate('source', 'discount_code_id', '_landed_at desc, _row_number desc') | indent(4) }}

),

renamed as (

    select
        discount_code_id,
        promotion_id,
        store_id,
        code,
        max_uses,
        created_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
