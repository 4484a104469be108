-- The visitor unit of METRICS.md funnels: a visitor enters on each local day they reach step 1,
-- and each later step counts when reached in order within funnel_conversion_window_days of
-- that entry, across sessions and days.
--
-- Incremental by store and entry date (macros/rebuilt_partitions.sql): an entry day reads the step
-- events of its own day and the `reach_days` after it only, so its stamp is the latest stamp of
-- those step days, and a step day that changed (a late event, a re-stitched visitor, a payment
-- captured later) reopens the entry days that reach it. The candidates are the days with a step-1
-- event, each of which yields rows, so a day the pre-hook deleted is rebuilt as missing: an entry
-- day left with no step-1 event, and the entry days before it that read its step events. (A step
-- day that never held a step-1 event and loses every step event is not seen to vanish: the entry
-- days before it keep what its events added until their own inputs change.) The step events are
-- read by the rebuilt days as literals, from the first to `reach_days` after the last.
{%- set reach_days = funnel_reach_days() %}
{#- an entry day's stamp, over the step events it is given: the whole table to find the partitions
    to rebuild, the CTE below (read by those days) to write it -#}
{%- set entry_stamps_of %}
    select
        entry_days.store_id,
        entry_days.event_date as entry_date,
        max(step_days.partition_landed_at) as partition_landed_at
    from (
        select distinct
            store_id,
            event_date
        from __step_events__
        where step_number = 1
    ) as entry_days
    inner join (
        {{ partition_stamps('__step_events__', 'event_date') | indent(8) }}
    ) as step_days
        on
            entry_days.store_id = step_days.store_id
            and step_days.event_date >= entry_days.event_date
            and step_days.event_date <= {{ dbt.dateadd('day', reach_days, 'entry_days.event_date') }}
    group by
        entry_days.store_id,
        entry_days.event_date
{%- endset %}
{%- set scope = rebuilt_scope(
    entry_stamps_of | replace('__step_events__', ref('int_funnel_step_events') | string),
    'entry_date',
    missing=true,
) %}
with step_events as {{ inlined() }} (

    select * from {{ ref('int_funnel_step_events') }}
    {%- if scope %}
    where {{ in_rebuilt_scope('event_date', scope, days_after=reach_days) }}
    {%- endif %}

),

entry_stamps as (
    {{ entry_stamps_of | replace('__step_events__', 'step_events') }}

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
    reached.next_step_reached_at,
    entry_stamps.partition_landed_at
from reached
inner join entry_stamps
    on
        reached.store_id = entry_stamps.store_id
        and reached.event_date = entry_stamps.entry_date
{%- if scope %}
inner join ({{ classified_scope_partitions(scope) | indent(4) }}) as rebuilt
    on
        reached.store_id = rebuilt.store_id
        and reached.event_date = rebuilt.event_date
{%- endif %}
