with positions as (

    select * from {{ ref('int_stock_positions_evaluated') }}

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
    inventory_value_at_cost_usd
from positions
