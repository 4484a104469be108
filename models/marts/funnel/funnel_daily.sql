-- Incremental by store and local date, rebuilt with the session summaries (whose partitions also
-- move when a late payment capture completes the funnel's last step).
with steps as (

    select * from {{ ref('int_session_funnel_steps') }}

),

sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

partitions as (

    select
        store_id,
        session_date,
        max(partition_landed_at) as partition_landed_at
    from sessions
    group by
        store_id,
        session_date

),
{%- if is_incremental() %}

rebuilt as (

    {{ rebuilt_partitions('partitions', 'session_date') | indent(4) }}

),
{%- endif %}

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
    {%- if is_incremental() %}
    inner join rebuilt
        on
            steps.store_id = rebuilt.store_id
            and steps.session_date = rebuilt.session_date
    {%- endif %}

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
