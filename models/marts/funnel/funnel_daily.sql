-- Incremental by store and local date, rebuilt with the session summaries (whose partitions also
-- move when a late payment capture completes the funnel's last step). The partitions are found
-- first (macros/rebuilt_scope.sql), so the session steps are read by their days as literals.
{%- set scope = rebuilt_scope(partition_stamps(ref('int_sessions_summarized'), 'session_date'), 'session_date') %}
with steps as (

    {{ rows_in_rebuilt_scope(ref('int_session_funnel_steps'), 'session_date', scope) | indent(4) }}

),

partitions as (

    {{ partition_stamps(ref('int_sessions_summarized'), 'session_date', scope) | indent(4) }}

),

timed_steps as (

    select
        steps.store_id,
        steps.session_date,
        steps.step_number,
        steps.step_name,
        steps.is_last_step,
        steps.next_step_reached_at,
        {{ seconds_between('steps.reached_at', 'steps.next_step_reached_at') }} as seconds_to_next,
        partitions.partition_landed_at
    from steps
    inner join partitions
        on
            steps.store_id = partitions.store_id
            and steps.session_date = partitions.session_date

),

per_step as (

    select
        store_id,
        session_date as date,
        step_number,
        step_name,
        {{ funnel_step_counts() | indent(8) }},
        {{ percentile_cont('seconds_to_next', 0.5, scale=3) }} as p50_seconds_to_next,
        {{ percentile_cont('seconds_to_next', 0.9, scale=3) }} as p90_seconds_to_next,
        max(partition_landed_at) as partition_landed_at
    from timed_steps
    group by
        store_id,
        session_date,
        step_number,
        step_name,
        is_last_step

)

select
    store_id,
    date,
    step_number,
    step_name,
    entrants,
    reached_next,
    entrants - reached_next as dropped_off,
    {{ funnel_drop_off_rate() }} as drop_off_rate,
    p50_seconds_to_next,
    p90_seconds_to_next,
    partition_landed_at
from per_step
