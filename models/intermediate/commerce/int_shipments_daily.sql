-- Shipments per store-local ship date, destination region (from the store's geography reference,
-- by the destination's postal area; `unknown` when not listed), carrier and warehouse, and how the
-- delivered ones went: the one daily aggregate of the delivery process, which
-- delivery_performance_daily carries as it is and kpis_daily sums per store-day. A shipment counts
-- on the day it left, whenever it arrived.
with shipments as (

    select * from {{ ref('int_shipments_evaluated') }}

)

select
    store_id,
    ship_date as date,
    region,
    carrier,
    warehouse_id,
    count(*) as shipments,
    count(case when is_delivered then 1 end) as shipments_delivered,
    count(case when is_on_time then 1 end) as shipments_on_time,
    count(case when is_first_attempt then 1 end) as shipments_first_attempt,
    count(case when is_returned_to_origin then 1 end) as shipments_returned_to_origin,
    sum(case when is_delivered then delivery_hours end) as delivery_hours
from shipments
group by
    store_id,
    ship_date,
    region,
    carrier,
    warehouse_id
