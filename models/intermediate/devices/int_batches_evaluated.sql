-- One row per store, product and batch/lot of a connected product sold: units, returns and adverse
-- events, and the recall rule (docs/sources.md), read by batch_performance and inventory_daily:
--   adverse events per 1,000 units = 1000 * adverse events / units sold
--   recall flag: at least `recall_min_adverse_events` events and a rate of at least
--   `recall_adverse_events_per_1000_units`
with units as (

    select * from {{ ref('stg_devices__activations') }}

),

returns as (

    select * from {{ ref('stg_logistics__returns') }}

),

events as (

    select * from {{ ref('stg_devices__adverse_events') }}

),

sold as (

    select
        store_id,
        product_id,
        lot_number,
        count(*) as units_sold,
        count(activated_at) as units_activated
    from units
    group by
        store_id,
        product_id,
        lot_number

),

-- an order line ships from one lot; its returned quantity counts once
lot_lines as (

    select distinct
        store_id,
        product_id,
        lot_number,
        order_item_id
    from units
    where order_item_id is not null

),

returned as (

    select
        lot_lines.store_id,
        lot_lines.product_id,
        lot_lines.lot_number,
        cast(sum(returns.quantity) as {{ dbt.type_bigint() }}) as units_returned
    from lot_lines
    inner join returns
        on lot_lines.order_item_id = returns.order_item_id
    where returns.status <> 'rejected'
    group by
        lot_lines.store_id,
        lot_lines.product_id,
        lot_lines.lot_number

),

reported as (

    select
        store_id,
        product_id,
        lot_number,
        count(*) as adverse_events
    from events
    group by
        store_id,
        product_id,
        lot_number

),

measured as (

    select
        sold.store_id,
        sold.product_id,
        sold.lot_number,
        sold.units_sold,
        sold.units_activated,
        coalesce(returned.units_returned, 0) as units_returned,
        coalesce(reported.adverse_events, 0) as adverse_events
    from sold
    left join returned
        on
            sold.store_id = returned.store_id
            and sold.product_id = returned.product_id
            and sold.lot_number = returned.lot_number
    left join reported
        on
            sold.store_id = reported.store_id
            and sold.product_id = reported.product_id
            and sold.lot_number = reported.lot_number

)

select
    *,
    1000 * {{ ratio('adverse_events', 'units_sold') }} as adverse_events_per_1000_units,
    coalesce(
        adverse_events >= {{ var('recall_min_adverse_events') }}
        and 1000 * {{ ratio('adverse_events', 'units_sold') }} >= {{ var('recall_adverse_events_per_1000_units') }},
        false
    ) as is_recall_flagged
from measured
