-- When each session reached each step of its store's funnel, in order: step k counts at the
-- session's first step-k event at or after it reached step k-1. A store's own rows in the
-- funnel_steps seed replace the '*' default. A purchase is a step only once its order's payment
-- was captured (the backend's word, not the browser's).
{#- Funnels longer than the var are cut; steps past a store's last one come out empty. -#}
{%- set max_steps = var('funnel_max_steps') %}

with events as (

    select * from {{ ref('int_events_sessionized') }}

),

conversions as (

    select * from {{ ref('int_session_conversions') }}

),

funnel_steps as (

    select * from {{ ref('funnel_steps') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

stores_with_own_funnel as (

    select distinct store_id
    from funnel_steps
    where store_id <> '*'

),

store_steps as (

    select
        stores.store_id,
        funnel_steps.step_number,
        funnel_steps.step_name,
        funnel_steps.event_type,
        funnel_steps.step_number = max(funnel_steps.step_number) over (partition by stores.store_id) as is_last_step
    from stores
    inner join funnel_steps
        on
            stores.store_id = funnel_steps.store_id
            or (
                funnel_steps.store_id = '*'
                and stores.store_id not in (select store_id from stores_with_own_funnel)
            )

),

step_events as (

    select
        events.session_id,
        events.store_id,
        events.event_date as session_date,
        events.event_at,
        store_steps.step_number
    from events
    inner join store_steps
        on
            events.store_id = store_steps.store_id
            and events.event_type = store_steps.event_type
    left join conversions
        on
            events.session_id = conversions.session_id
            and events.order_id = conversions.order_id
    where events.event_type <> 'purchase' or conversions.is_captured

),

step_1 as (

    select
        session_id,
        store_id,
        session_date,
        min(event_at) as reached_at
    from step_events
    where step_number = 1
    group by
        session_id,
        store_id,
        session_date

),
{%- for step in range(2, max_steps + 1) %}

    step_{{ step }} as (

        select
            step_events.session_id,
            step_events.store_id,
            step_events.session_date,
            min(step_events.event_at) as reached_at
        from step_events
        inner join step_{{ step - 1 }} as previous_step
            on
                step_events.session_id = previous_step.session_id
                and step_events.event_at >= previous_step.reached_at
        where step_events.step_number = {{ step }}
        group by
            step_events.session_id,
            step_events.store_id,
            step_events.session_date

    ),
{%- endfor %}

reached as (
    {%- for step in range(1, max_steps + 1) %}

        select
            step_{{ step }}.*,
            {{ step }} as step_number
        from step_{{ step }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

)

select
    reached.session_id,
    reached.store_id,
    reached.session_date,
    reached.step_number,
    store_steps.step_name,
    store_steps.is_last_step,
    reached.reached_at,
    next_step.reached_at as next_step_reached_at
from reached
inner join store_steps
    on
        reached.store_id = store_steps.store_id
        and reached.step_number = store_steps.step_number
left join reached as next_step
    on
        reached.session_id = next_step.session_id
        and reached.step_number + 1 = next_step.step_number
