-- Shown in Dagster as a check of delivery_performance_daily.
{{ config(meta={'dagster': {'ref': {'name': 'delivery_performance_daily'}}}) }}

-- Shipment counts of delivery_performance_daily equal those of fct_shipments per store, ship date
-- and carrier, and per region. Returns the groups that disagree.
with expected as (

    select
        store_id,
        ship_date as date,
        carrier,
        region,
        count(*) as shipments,
        count(case when is_delivered then 1 end) as shipments_delivered,
        count(case when is_on_time then 1 end) as shipments_on_time,
        count(case when is_first_attempt then 1 end) as shipments_first_attempt,
        count(case when is_returned_to_origin then 1 end) as shipments_returned_to_origin
    from {{ ref('fct_shipments') }}
    group by
        store_id,
        ship_date,
        carrier,
        region

),

actual as (

    select
        store_id,
        date,
        carrier,
        region,
        sum(shipments) as shipments,
        sum(shipments_delivered) as shipments_delivered,
        sum(shipments_on_time) as shipments_on_time,
        sum(shipments_first_attempt) as shipments_first_attempt,
        sum(shipments_returned_to_origin) as shipments_returned_to_origin
    from {{ ref('delivery_performance_daily') }}
    group by
        store_id,
        date,
        carrier,
        region

)

select
    coalesce(expected.store_id, actual.store_id) as store_id,
    coalesce(expected.date, actual.date) as date,
    coalesce(expected.carrier, actual.carrier) as carrier,
    coalesce(expected.region, actual.region) as region
from expected
full outer join actual
    on
        expected.store_id = actual.store_id
        and expected.date = actual.date
        and expected.carrier = actual.carrier
        and expected.region = actual.region
where
    expected.shipments is distinct from actual.shipments
    or expected.shipments_delivered is distinct from actual.shipments_delivered
    or expected.shipments_on_time is distinct from actual.shipments_on_time
    or expected.shipments_first_attempt is distinct from actual.shipments_first_attempt
    or expected.shipments_returned_to_origin is distinct from actual.shipments_returned_to_origin
