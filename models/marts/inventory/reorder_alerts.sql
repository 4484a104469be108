-- Positions below their reorder point on the latest day of their store's stock history, with
-- the quantity that lifts them to the reorder point plus `reorder_cover_days` of mean demand.
with positions as (

    select * from {{ ref('int_stock_positions_evaluated') }}

),

latest_days as (

    select
        store_id,
        max(date) as date
    from positions
    group by store_id

),

below as (

    select positions.*
    from positions
    inner join latest_days
        on
            positions.store_id = latest_days.store_id
            and positions.date = latest_days.date
    where positions.is_below_reorder_point

)

select
    store_id,
    product_id,
    warehouse_id,
    date as alert_date,
    on_hand,
    is_stockout,
    mean_daily_units_sold,
    days_of_cover,
    lead_time_days,
    reorder_point,
    cast(
        ceil(reorder_point + {{ var('reorder_cover_days') }} * mean_daily_units_sold - on_hand) as bigint
    ) as suggested_quantity,
    currency,
    unit_cost,
    cast(
        ceil(reorder_point + {{ var('reorder_cover_days') }} * mean_daily_units_sold - on_hand) * unit_cost
        as decimal(18, 2)
    ) as suggested_order_value_at_cost
from below
