-- Shipments per store-local ship date, destination region, carrier and warehouse, and how the
-- delivered ones went (a shipment counts on the day it left, whenever it arrived).
--   on-time rate = delivered on or before the ETA / delivered;  first-attempt rate likewise
--   mean delivery hours = hours from shipped to delivered / delivered;  RTO rate = RTO / shipments
with shipments as (

    select * from {{ ref('int_shipments_evaluated') }}

),

daily as (

    select
        store_id,
        ship_date as date,
        destination_region as region,
        carrier,
        warehouse_id,
        count(*) as shipments,
        count(case when is_delivered then 1 end) as delivered_shipments,
        count(case when is_on_time then 1 end) as on_time_shipments,
        count(case when is_first_attempt then 1 end) as first_attempt_shipments,
        count(case when is_returned_to_origin then 1 end) as returned_to_origin_shipments,
        sum(case when is_delivered then delivery_hours end) as delivery_hours_total
    from shipments
    group by
        store_id,
        ship_date,
        destination_region,
        carrier,
        warehouse_id

)

select
    store_id,
    date,
    region,
    carrier,
    warehouse_id,
    shipments,
    delivered_shipments,
    on_time_shipments,
    first_attempt_shipments,
    returned_to_origin_shipments,
    delivery_hours_total,
    on_time_shipments / nullif(delivered_shipments, 0) as on_time_rate,
    first_attempt_shipments / nullif(delivered_shipments, 0) as first_attempt_rate,
    delivery_hours_total / nullif(delivered_shipments, 0) as mean_delivery_hours,
    returned_to_origin_shipments / nullif(shipments, 0) as rto_rate
from daily
