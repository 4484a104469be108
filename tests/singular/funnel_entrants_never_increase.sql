-- Along a store's funnel, each step has no more entrants than the step before it, and a step's
-- entrants equal the previous step's reached_next.
with steps as (

    select
        store_id,
        date,
        step_number,
        entrants,
        lag(entrants) over (partition by store_id, date order by step_number) as previous_entrants,
        lag(reached_next) over (partition by store_id, date order by step_number) as previous_reached_next
    from {{ ref('funnel_daily') }}

)

select *
from steps
where entrants > previous_entrants or entrants <> previous_reached_next
