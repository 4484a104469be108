-- Shown in Dagster as a check of delivery_performance_daily.
{{ config(meta={'dagster': {'ref': {'name': 'delivery_performance_daily'}}}) }}

-- Shipment counts of delivery_performance_daily equal those of fct_shipments per store, ship date
-- and carrier. Returns the groups that disagree.
with expected as (

    select
        store_id,
        ship_date as date,
        carrier,
        count(*) as shipments,
        count(case when is_delivered then 1 end) as delivered_shipments,
        count(case when is_on_time then 1 end) as on_time_shipments,
        count(case when is_first_attempt then 1 end) as first_attempt_shipments,
        count(case when is_returned_to_origin then 1 end) as returned_to_origin_shipments
    from {{ ref('fct_shipments') }}
    group by
        store_id,
        ship_date,
        carrier

),

actual as (

    select
        store_id,
        date,
        carrier,
        sum(shipments) as shipments,
        sum(delivered_shipments) as delivered_shipments,
        sum(on_time_shipments) as on_time_shipments,
        sum(first_attempt_shipments) as first_attempt_shipments,
        sum(returned_to_origin_shipments) as returned_to_origin_shipments
    from {{ ref('delivery_performance_daily') }}
    group by
        store_id,
        date,
        carrier

)

select
    coalesce(expected.store_id, actual.store_id) as store_id,
    coalesce(expected.date, actual.date) as date,
    coalesce(expected.carrier, actual.carrier) as carrier
from expected
full outer join actual
    on
        expected.store_id = actual.store_id
        and expected.date = actual.date
        and expected.carrier = actual.carrier
where
    expected.shipments is distinct from actual.shipments
    or expected.delivered_shipments is distinct from actual.delivered_shipments
    or expected.on_time_shipments is distinct from actual.on_time_shipments
    or expected.first_attempt_shipments is distinct from actual.first_attempt_shipments
    or expected.returned_to_origin_shipments is distinct from actual.returned_to_origin_shipments
