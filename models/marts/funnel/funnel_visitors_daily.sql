-- The visitor-unit funnel, incremental by store and entry date: rebuilt with the entry days of
-- int_visitor_funnel_steps, whose stamp already moves when a step day its conversion window
-- reaches changes, and reading the entries of its rebuilt days only (macros/rebuilt_scope.sql).
-- Days the retention purge closed keep the rows built before it.
{%- set scope = rebuilt_scope(partition_stamps(ref('int_visitor_funnel_steps'), 'entry_date'), 'entry_date') %}
with steps as (

    {{ rows_in_rebuilt_scope(ref('int_visitor_funnel_steps'), 'entry_date', scope) | indent(4) }}

),

per_step as (

    select
        store_id,
        entry_date as date,
        step_number,
        step_name,
        {{ funnel_step_counts() | indent(8) }},
        max(partition_landed_at) as partition_landed_at
    from steps
    group by
        store_id,
        entry_date,
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
    {{ funnel_drop_off_rate() }} as drop_off_rate,
    partition_landed_at
from per_step
{{ open_days_filter('date') }}
