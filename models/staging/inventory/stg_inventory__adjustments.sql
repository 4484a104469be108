with source as (

    select * from {{ raw_source('inventory', 'inventory_adjustments') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'adjustment_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        adjustment_id,
        store_id,
        warehouse_id,
        product_id,
        adjusted_at,
        adjustment_type,
        quantity_delta,
        reference_id,
        -- hand-keyed receipts pad or lower-case the lot; the device cloud writes it upper case
        nullif(upper(trim(lot_number)), '') as lot_number,
        expiry_date,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
