-- Per store-local month and product (all warehouses together):
--   turnover = COGS of the month (units sold at unit cost) / mean daily inventory value at cost
--   shrinkage rate = units lost to shrinkage / mean daily units on hand
--   aging = days from the latest receipt (this month or before) to the month's last day of data
with positions as (

    select * from {{ ref('int_stock_positions_evaluated') }}

),

product_days as (

    select
        store_id,
        product_id,
        date,
        cast({{ dbt.date_trunc('month', 'date') }} as date) as month_start_date,
        currency,
        max(unit_cost) as unit_cost,
        cast(sum(units_sold) as {{ dbt.type_bigint() }}) as units_sold,
        cast(sum(units_received) as {{ dbt.type_bigint() }}) as units_received,
        cast(sum(units_shrunk) as {{ dbt.type_bigint() }}) as units_shrunk,
        sum(on_hand) as on_hand,
        sum(inventory_value_at_cost) as inventory_value_at_cost,
        sum(inventory_value_at_cost_usd) as inventory_value_at_cost_usd,
        sum({{ to_usd('units_sold * unit_cost', 'usd_per_unit') }}) as cogs_usd,
        max(case when units_received > 0 then date end) as receipt_date
    from positions
    group by
        store_id,
        product_id,
        date,
        currency

),

received as (

    select
        *,
        max(receipt_date) over (
            partition by store_id, product_id
            order by date
            rows between unbounded preceding and current row
        ) as last_receipt_date
    from product_days

),

monthly as (

    select
        store_id,
        month_start_date,
        product_id,
        currency,
        count(*) as stock_days,
        max(date) as last_date,
        cast(sum(units_sold) as {{ dbt.type_bigint() }}) as units_sold,
        cast(sum(units_received) as {{ dbt.type_bigint() }}) as units_received,
        cast(sum(units_shrunk) as {{ dbt.type_bigint() }}) as units_shrunk,
        cast(sum(units_sold * unit_cost) as decimal(18, 2)) as cogs,
        sum(cogs_usd) as cogs_usd,
        avg(on_hand) as mean_units_on_hand,
        {{ decimal_mean('inventory_value_at_cost') }} as mean_inventory_value_at_cost,
        {{ decimal_mean('inventory_value_at_cost_usd') }} as mean_inventory_value_at_cost_usd,
        max(last_receipt_date) as last_receipt_date
    from received
    group by
        store_id,
        month_start_date,
        product_id,
        currency

)

select
    store_id,
    month_start_date,
    product_id,
    currency,
    stock_days,
    units_sold,
    units_received,
    units_shrunk,
    cogs,
    cogs_usd,
    mean_units_on_hand,
    mean_inventory_value_at_cost,
    mean_inventory_value_at_cost_usd,
    {{ ratio('cogs', 'mean_inventory_value_at_cost') }} as inventory_turnover,
    {{ ratio('units_shrunk', 'mean_units_on_hand') }} as shrinkage_rate,
    last_receipt_date,
    {{ dbt.datediff('last_receipt_date', 'last_date', 'day') }}
        as days_since_last_receipt
from monthly
