with shipments as (

    select * from {{ ref('stg_logistics__shipments') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

areas as (

    select * from {{ ref('stg_logistics__postal_areas') }}

)

select
    shipments.shipment_id,
    shipments.order_id,
    shipments.store_id,
    shipments.warehouse_id,
    shipments.carrier,
    shipments.destination_country,
    shipments.destination_region,
    {{ postal_area_located('areas') | indent(4) }},
    shipments.shipped_at,
    {{ local_date('shipments.shipped_at', 'stores.time_zone') }} as ship_date,
    shipments.eta_at,
    shipments.delivered_at,
    shipments.delivery_attempts,
    shipments.is_returned_to_origin,
    shipments.delivered_at is not null as is_delivered,
    shipments.delivered_at is not null and shipments.delivered_at <= shipments.eta_at as is_on_time,
    shipments.delivered_at is not null and shipments.delivery_attempts = 1 as is_first_attempt,
    -- a decimal, so sums over shipments do not depend on row order
    {{ hours_between('shipments.shipped_at', 'shipments.delivered_at') }} as delivery_hours
from shipments
inner join stores
    on shipments.store_id = stores.store_id
left join areas
    on
        shipments.store_id = areas.store_id
        and shipments.destination_country = areas.country
        and shipments.destination_postal_prefix = areas.postal_prefix
