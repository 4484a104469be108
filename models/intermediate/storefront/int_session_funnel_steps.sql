-- When each session reached each step of its store's funnel, in order (the session unit of
-- METRICS.md funnels).
--
-- Incremental by store and local date, as the funnel step events it reads: a session never crosses
-- its store's local midnight, so a day's rows come from that day's step events alone, and a day is
-- rebuilt when their stamp moved (a late event, a withdrawal, a payment captured later). The
-- partitions are found first (macros/rebuilt_scope.sql), so the step events are read by their
-- days as literals. A day left without a step-1 event yields no rows: its pre-hook deletes it.
{%- set scope = rebuilt_scope(partition_stamps(ref('int_funnel_step_events'), 'event_date'), 'event_date') %}
with step_events as (

    {{ rows_in_rebuilt_scope(ref('int_funnel_step_events'), 'event_date', scope) | indent(4) }}

),

partitions as (

    {{ partition_stamps('step_events', 'event_date') | indent(4) }}

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
    reached.next_step_reached_at,
    partitions.partition_landed_at
from reached
inner join partitions
    on
        reached.store_id = partitions.store_id
        and reached.event_date = partitions.event_date
