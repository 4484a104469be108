-- Shipments per store-local ship date, destination region, carrier and warehouse
-- (int_shipments_daily), with the delivery rates of METRICS.md, named as in kpis_daily.
with shipments as (

    select * from {{ ref('int_shipments_daily') }}

)

select
    store_id,
    date,
    region,
    carrier,
    warehouse_id,
    shipments,
    shipments_delivered,
    shipments_on_time,
    shipments_first_attempt,
    shipments_returned_to_origin,
    delivery_hours,
    {{ ratio('shipments_on_time', 'shipments_delivered') }} as on_time_delivery_rate,
    {{ ratio('shipments_first_attempt', 'shipments_delivered') }} as first_attempt_delivery_rate,
    {{ ratio('delivery_hours', 'shipments_delivered') }} as avg_delivery_hours,
    {{ ratio('shipments_returned_to_origin', 'shipments') }} as rto_rate
from shipments
