-- Identity stitching: a device belongs to the first customer it was seen logged in or buying as,
-- and so do all of its events, earlier ones included. Only events that count are used. Built from
-- the per-day summary, whose rows hold each day's first identifying event per device and
-- customer: the first of those is the device's first identifying event of all.
with device_logins as (

    select * from {{ ref('int_device_logins_daily') }}
    -- the summary's rows without a customer only carry their day's landing stamp
    where customer_id is not null

),

identifications as (

    select
        store_id,
        anonymous_id,
        customer_id,
        first_identified_at,
        first_landed_at,
        row_number() over (
            partition by store_id, anonymous_id
            order by first_identified_at, first_event_id
        ) as identification_number
    from device_logins

)

select
    store_id,
    anonymous_id,
    customer_id,
    first_identified_at as identified_at,
    first_landed_at as identified_landed_at
from identifications
where identification_number = 1
