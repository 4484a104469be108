-- When each session reached each step of its store's funnel, in order (the session unit of
-- METRICS.md funnels).
with step_events as (

    select * from {{ ref('int_funnel_step_events') }}

),

{{ funnel_steps_reached('step_events', ['session_id', 'store_id', 'event_date'], ['session_id']) }}

select
    reached.session_id,
    reached.store_id,
    reached.event_date as session_date,
    reached.step_number,
    reached.step_name,
    reached.is_last_step,
    reached.reached_at,
    reached.next_step_reached_at
from reached
