{% set snapshot_key = 'snapshot_date, warehouse_id, product_id' %}

with source as (

    select * from {{ raw_source('inventory', 'stock_snapshots') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', snapshot_key, '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        snapshot_date,
        store_id,
        warehouse_id,
        product_id,
        on_hand,
        taken_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
