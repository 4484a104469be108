-- The visitor-unit funnel: rebuilt whole each run, since a visitor's conversion window reaches
-- days past the entry day.
with steps as (

    select * from {{ ref('int_visitor_funnel_steps') }}

),

per_step as (

    select
        store_id,
        entry_date as date,
        step_number,
        step_name,
        count(*) as entrants,
        -- the last step has no next one: NULL, not a 100 % drop-off
        case when not is_last_step then count(next_step_reached_at) end as reached_next
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
    {{ ratio('entrants - reached_next', 'entrants') }} as drop_off_rate
from per_step
{%- if is_incremental() %}
-- days the retention purge closed keep the rows built before it
where not {{ closed_by_purge('date') }}
{%- endif %}
