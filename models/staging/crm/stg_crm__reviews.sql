with source as (

    select * from {{ raw_source('crm', 'reviews') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'review_id', '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        review_id,
        store_id,
        product_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        rating,
        title,
        created_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
