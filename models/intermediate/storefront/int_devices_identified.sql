-- Identity stitching: a device belongs to the first customer it was seen logged in or buying as,
-- and so do all of its events, earlier ones included. Only events that count are used.
with events as (

    select * from {{ ref('int_events_classified') }}

),

identifying_events as (

    select
        store_id,
        anonymous_id,
        customer_id,
        event_at,
        landed_at,
        row_number() over (
            partition by store_id, anonymous_id
            order by event_at, event_id
        ) as identification_number
    from events
    where customer_id is not null and exclusion_reason is null

)

select
    store_id,
    anonymous_id,
    customer_id,
    event_at as identified_at,
    landed_at as identified_landed_at
from identifying_events
where identification_number = 1
