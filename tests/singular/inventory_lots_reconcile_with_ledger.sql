-- The lot view of inventory_daily adds up to the ledger's on hand. First in first out by receipt, the
-- units traced to receipts are the lesser of on hand (0 when negative) and the units received up to
-- the day, computed here from the ledger's receipts independently of int_stock_lots_daily; the age
-- buckets and units of unknown age, and the units in and without lots, each add up to on hand; the
-- recalled and expiring units are units in lots. Returns a row per position and day that breaks one.
with adjustments as (

    {{ with_local_date(ref('stg_inventory__adjustments'), 'adjusted_at', 'adjustment_date') | indent(4) }}

),

receipts as (

    select
        warehouse_id,
        product_id,
        adjustment_date,
        sum(quantity_delta) as units_received
    from adjustments
    where
        adjustment_type = 'receipt'
        and quantity_delta > 0
    group by
        warehouse_id,
        product_id,
        adjustment_date

),

daily as (

    select * from {{ ref('inventory_daily') }}

),

received_to_date as (

    select
        daily.warehouse_id,
        daily.product_id,
        daily.date,
        coalesce(sum(receipts.units_received), 0) as units_received_to_date
    from daily
    left join receipts
        on
            daily.warehouse_id = receipts.warehouse_id
            and daily.product_id = receipts.product_id
            and daily.date >= receipts.adjustment_date
    group by
        daily.warehouse_id,
        daily.product_id,
        daily.date

)

select
    daily.store_id,
    daily.warehouse_id,
    daily.product_id,
    daily.date,
    daily.on_hand,
    daily.units_aged_unknown,
    received_to_date.units_received_to_date
from daily
inner join received_to_date
    on
        daily.warehouse_id = received_to_date.warehouse_id
        and daily.product_id = received_to_date.product_id
        and daily.date = received_to_date.date
where
    daily.units_aged_0_30d + daily.units_aged_31_90d + daily.units_aged_91_180d + daily.units_aged_over_180d
    <> least(greatest(daily.on_hand, 0), received_to_date.units_received_to_date)
    or daily.units_aged_0_30d + daily.units_aged_31_90d + daily.units_aged_91_180d + daily.units_aged_over_180d
    + daily.units_aged_unknown <> greatest(daily.on_hand, 0)
    or daily.units_in_lots + daily.units_without_lot <> greatest(daily.on_hand, 0)
    or daily.recalled_units > daily.units_in_lots
    or daily.units_expiring + daily.units_expired > daily.units_in_lots
