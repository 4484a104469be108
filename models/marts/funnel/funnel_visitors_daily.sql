-- The visitor-unit funnel: every open day rebuilt each run (open_days_only), from the entry days
-- of int_visitor_funnel_steps, which already reopens an entry day when a step day its conversion
-- window reaches changes.
with steps as (

    select * from {{ ref('int_visitor_funnel_steps') }}

),

per_step as (

    select
        store_id,
        entry_date as date,
        step_number,
        step_name,
        {{ funnel_step_counts() | indent(8) }}
    from steps
    group by
        store_id,
        entry_date,
        step_number,
        step_name,
        is_last_step

)

select
    *,
    {{ funnel_drop_off_rate() }} as drop_off_rate
from per_step
{{ open_days_only('date') }}
