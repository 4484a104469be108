-- The visitor unit of METRICS.md funnels: a visitor enters on each local day they reach step 1,
-- and each later step counts when reached in order within funnel_conversion_window_days of
-- that entry, across sessions and days.
with step_events as (

    select * from {{ ref('int_funnel_step_events') }}

),

{{ funnel_steps_reached(
    'step_events',
    ['visitor_id', 'store_id', 'event_date'],
    ['visitor_id', 'store_id'],
    window_days=var('funnel_conversion_window_days'),
) }}

select
    reached.visitor_id,
    reached.store_id,
    reached.event_date as entry_date,
    reached.step_number,
    reached.step_name,
    reached.is_last_step,
    reached.reached_at,
    reached.next_step_reached_at
from reached
