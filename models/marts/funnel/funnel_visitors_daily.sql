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
