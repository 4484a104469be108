-- One row per store-local day, stock position (warehouse x product) and batch/lot holding units at
-- the end of the day (lot_number NULL: receipts recorded without a lot). Stock is consumed first in,
-- first out by receipt (DECISIONLOG.md): whatever leaves the position (sales, shrinkage, a negative
-- correction) takes the oldest receipt first, so the day's on hand is held by the newest receipts.
-- Each receipt r received by day d holds
--   units(r, d) = min(received(r), max(0, on_hand(d) - units of the receipts after r received by d))
-- Stock counted before the ledger's first receipt holds no lot; it is on hand in inventory_daily
-- as units without a lot. A lot's recall flag comes from the rule of int_batches_evaluated.
with positions as (

    select * from {{ ref('int_stock_positions_reconciled') }}

),

adjustments as (

    {{ with_local_date(ref('stg_inventory__adjustments'), 'adjusted_at', 'received_date') | indent(4) }}

),

batches as (

    select * from {{ ref('int_batches_evaluated') }}

),

receipts as (

    select
        adjustment_id,
        warehouse_id,
        product_id,
        adjusted_at,
        received_date,
        lot_number,
        expiry_date,
        quantity_delta as units_received
    from adjustments
    where
        adjustment_type = 'receipt'
        and quantity_delta > 0

),

receipt_days as (

    select
        positions.store_id,
        positions.warehouse_id,
        positions.product_id,
        positions.date,
        positions.on_hand,
        receipts.received_date,
        receipts.lot_number,
        receipts.expiry_date,
        receipts.units_received,
        coalesce(sum(receipts.units_received) over (
            partition by positions.warehouse_id, positions.product_id, positions.date
            order by receipts.adjusted_at desc, receipts.adjustment_id desc
            rows between unbounded preceding and 1 preceding
        ), 0) as units_received_later
    from positions
    inner join receipts
        on
            positions.warehouse_id = receipts.warehouse_id
            and positions.product_id = receipts.product_id
            and positions.date >= receipts.received_date

),

held as (

    select
        *,
        least(units_received, greatest(on_hand - units_received_later, 0)) as units_on_hand
    from receipt_days

),

lots as (

    -- a lot received twice into a position ages from its oldest receipt still holding units
    select
        store_id,
        warehouse_id,
        product_id,
        date,
        lot_number,
        min(received_date) as received_date,
        min(expiry_date) as expiry_date,
        cast(sum(units_on_hand) as {{ dbt.type_bigint() }}) as units_on_hand
    from held
    where units_on_hand > 0
    group by
        store_id,
        warehouse_id,
        product_id,
        date,
        lot_number

),

aged as (

    select
        *,
        {{ dbt.datediff('received_date', 'date', 'day') }}
            as lot_age_days,
        {{ dbt.datediff('date', 'expiry_date', 'day') }}
            as days_to_expiry
    from lots

)

select
    aged.store_id,
    aged.warehouse_id,
    aged.product_id,
    aged.date,
    aged.lot_number,
    aged.received_date,
    aged.expiry_date,
    aged.units_on_hand,
    aged.lot_age_days,
    aged.days_to_expiry,
    coalesce(batches.is_recall_flagged, false) as is_recalled
from aged
left join batches
    on
        aged.store_id = batches.store_id
        and aged.product_id = batches.product_id
        and aged.lot_number = batches.lot_number
