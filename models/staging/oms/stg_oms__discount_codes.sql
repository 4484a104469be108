with source as (

    select * from {{ raw_source('oms', 'discount_codes') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'discount_code_id', '_landing_order desc') | indent(4) }}

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
