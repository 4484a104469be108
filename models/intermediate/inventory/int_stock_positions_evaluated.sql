-- Stock positions per day with the demand statistics of the trailing 28 days (the day included;
-- fewer at the start of the history): days of cover, reorder point and value at cost.
--   days of cover = on hand / mean daily units sold (NULL when nothing sold)
--   reorder point = mean daily units sold * lead time + z * sd(daily units sold) * sqrt(lead time)
with positions as (

    select * from {{ ref('int_stock_positions_reconciled') }}

),

warehouses as (

    select * from {{ ref('stg_logistics__warehouses') }}

),

products as (

    select * from {{ ref('stg_catalog__products') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

demand as (

    select
        *,
        cast(sum(units_sold) over trailing_28_days as {{ dbt.type_bigint() }}) as units_sold_28d,
        count(*) over trailing_28_days as demand_days,
        coalesce(stddev_samp(units_sold) over trailing_28_days, 0) as sd_daily_units_sold
    from positions
    window trailing_28_days as (
        partition by warehouse_id, product_id
        order by date
        rows between 27 preceding and current row
    )

),

evaluated as (

    select
        demand.*,
        demand.units_sold_28d / demand.demand_days as mean_daily_units_sold,
        warehouses.lead_time_days,
        products.currency,
        products.unit_cost,
        fx_rates.usd_per_unit
    from demand
    inner join warehouses
        on demand.warehouse_id = warehouses.warehouse_id
    inner join products
        on demand.product_id = products.product_id
    left join fx_rates
        on
            demand.date = fx_rates.rate_date
            and products.currency = fx_rates.currency

),

final as (

    select
        store_id,
        warehouse_id,
        product_id,
        date,
        currency,
        is_opening_count,
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
        {{ ratio('on_hand', 'mean_daily_units_sold') }} as days_of_cover,
        on_hand <= 0 as is_stockout,
        lead_time_days,
        mean_daily_units_sold * lead_time_days
        + {{ var('reorder_z') }} * sd_daily_units_sold * sqrt(lead_time_days) as reorder_point,
        unit_cost,
        usd_per_unit,
        cast(on_hand * unit_cost as decimal(18, 2)) as inventory_value_at_cost,
        {{ to_usd('on_hand * unit_cost', 'usd_per_unit') }} as inventory_value_at_cost_usd
    from evaluated

)

select
    *,
    on_hand < reorder_point as is_below_reorder_point
from final
