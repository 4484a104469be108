-- Stock positions per day (int_stock_positions_evaluated) with the batch/lot view of the units on
-- hand (int_stock_lots_daily, first in first out by receipt):
--   units aged a-b days = units of receipts received a to b days before the day
--   units expiring = units of lots whose expiry date is the day or one of the next
--     `expiry_risk_days`; units expired = units of lots past their expiry date
--   expiry risk = some unit on hand is expired or expiring
--   units without a lot = on hand (0 when negative) - units traced to a lot
with positions as (

    select * from {{ ref('int_stock_positions_evaluated') }}

),

lots as (

    select * from {{ ref('int_stock_lots_daily') }}

),

lots_per_position as (

    select
        warehouse_id,
        product_id,
        date,
        sum(units_on_hand) as units_traced,
        sum(case when lot_number is not null then units_on_hand else 0 end) as units_in_lots,
        sum(case when lot_age_days <= 30 then units_on_hand else 0 end) as units_aged_0_30d,
        sum(case when lot_age_days between 31 and 90 then units_on_hand else 0 end) as units_aged_31_90d,
        sum(case when lot_age_days between 91 and 180 then units_on_hand else 0 end) as units_aged_91_180d,
        sum(case when lot_age_days > 180 then units_on_hand else 0 end) as units_aged_over_180d,
        sum(units_on_hand * lot_age_days) as unit_age_days,
        sum(case when days_to_expiry < 0 then units_on_hand else 0 end) as units_expired,
        sum(
            case when days_to_expiry between 0 and {{ var('expiry_risk_days') }} then units_on_hand else 0 end
        ) as units_expiring,
        sum(case when is_recalled then units_on_hand else 0 end) as recalled_units
    from lots
    group by
        warehouse_id,
        product_id,
        date

),

final as (

    select
        positions.*,
        cast(coalesce(lots_per_position.units_traced, 0) as {{ dbt.type_bigint() }}) as units_traced,
        cast(coalesce(lots_per_position.units_in_lots, 0) as {{ dbt.type_bigint() }}) as units_in_lots,
        cast(coalesce(lots_per_position.units_aged_0_30d, 0) as {{ dbt.type_bigint() }}) as units_aged_0_30d,
        cast(coalesce(lots_per_position.units_aged_31_90d, 0) as {{ dbt.type_bigint() }}) as units_aged_31_90d,
        cast(coalesce(lots_per_position.units_aged_91_180d, 0) as {{ dbt.type_bigint() }}) as units_aged_91_180d,
        cast(coalesce(lots_per_position.units_aged_over_180d, 0) as {{ dbt.type_bigint() }})
            as units_aged_over_180d,
        {{ ratio('lots_per_position.unit_age_days', 'lots_per_position.units_traced') }} as mean_receipt_age_days,
        cast(coalesce(lots_per_position.units_expired, 0) as {{ dbt.type_bigint() }}) as units_expired,
        cast(coalesce(lots_per_position.units_expiring, 0) as {{ dbt.type_bigint() }}) as units_expiring,
        cast(coalesce(lots_per_position.recalled_units, 0) as {{ dbt.type_bigint() }}) as recalled_units
    from positions
    left join lots_per_position
        on
            positions.warehouse_id = lots_per_position.warehouse_id
            and positions.product_id = lots_per_position.product_id
            and positions.date = lots_per_position.date

)

select
    store_id,
    date,
    product_id,
    warehouse_id,
    currency,
    units_received,
    units_sold,
    units_returned,
    units_shrunk,
    units_corrected,
    net_change,
    on_hand,
    counted_on_hand,
    count_difference,
    has_count_mismatch,
    units_sold_28d,
    demand_days,
    mean_daily_units_sold,
    sd_daily_units_sold,
    days_of_cover,
    is_stockout,
    lead_time_days,
    reorder_point,
    is_below_reorder_point,
    unit_cost,
    inventory_value_at_cost,
    inventory_value_at_cost_usd,
    units_in_lots,
    greatest(on_hand, 0) - units_in_lots as units_without_lot,
    units_aged_0_30d,
    units_aged_31_90d,
    units_aged_91_180d,
    units_aged_over_180d,
    greatest(on_hand, 0) - units_traced as units_aged_unknown,
    mean_receipt_age_days,
    units_expiring,
    units_expired,
    units_expiring + units_expired > 0 as is_expiry_risk,
    recalled_units,
    recalled_units > 0 as has_recalled_stock
from final
