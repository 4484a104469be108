{#- CTEs step_1 .. step_N, then `reached`: when each funnel unit (a session, or a visitor's entry
    day) reached each step, in order, one row per unit and step reached, with when it reached the
    next step. Step 1 is the unit's first step-1 event; step k is its first step-k event at or
    after step k-1 (and, with a window, within `window_days` of step 1). `unit_columns` name the
    unit in `step_events`; `join_columns` tie later events to it. Each row carries its step's name
    and whether it is the store's last step.
    Each step CTE carries the unit's earlier steps as columns and is read once: Spark inlines a CTE
    read twice, so a chain of steps each read by the next and by a union of all of them ran its
    joins many times over. The last step's wide row is unpivoted to one row per step.
    Funnels longer than var('funnel_max_steps') are cut; steps past a store's last come out empty. -#}
{% macro funnel_steps_reached(step_events, unit_columns, join_columns, window_days=none) -%}
{%- set steps = range(1, var('funnel_max_steps') + 1) | list -%}
{%- set carried = unit_columns | list -%}
step_1 as (

    select
        {%- for column in unit_columns %}
        {{ column }},
        {%- endfor %}
        step_name as step_name_1,
        is_last_step as is_last_step_1,
        min(event_at) as reached_at_1
    from {{ step_events }}
    where step_number = 1
    group by {{ unit_columns | join(', ') }}, step_name, is_last_step

),
{%- for step in steps[1:] %}
{%- do carried.extend(['step_name_' ~ (step - 1), 'is_last_step_' ~ (step - 1), 'reached_at_' ~ (step - 1)]) %}

step_{{ step }} as (

    select
        {%- for column in carried %}
        previous_step.{{ column }},
        {%- endfor %}
        step_events.step_name as step_name_{{ step }},
        step_events.is_last_step as is_last_step_{{ step }},
        min(step_events.event_at) as reached_at_{{ step }}
    from step_{{ step - 1 }} as previous_step
    left join {{ step_events }} as step_events
        on
            step_events.step_number = {{ step }}
            and step_events.event_at >= previous_step.reached_at_{{ step - 1 }}
            {%- for column in join_columns %}
            and step_events.{{ column }} = previous_step.{{ column }}
            {%- endfor %}
            {%- if window_days is not none %}
            and step_events.event_at <= {{ add_days(window_days, 'previous_step.reached_at_1') }}
            {%- endif %}
    group by
        {%- for column in carried %}
        previous_step.{{ column }},
        {%- endfor %}
        step_events.step_name,
        step_events.is_last_step

),
{%- endfor %}

step_numbers as (
    {%- for step in steps %}

    select {{ step }} as step_number
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

steps_unpivoted as (

    select
        {%- for column in unit_columns %}
        step_{{ steps | last }}.{{ column }},
        {%- endfor %}
        step_numbers.step_number,
        {%- for name, column, offset in [
            ('step_name', 'step_name', 0),
            ('is_last_step', 'is_last_step', 0),
            ('reached_at', 'reached_at', 0),
            ('next_step_reached_at', 'reached_at', 1),
        ] %}
        case step_numbers.step_number
            {%- for step in steps if step + offset in steps %}
            when {{ step }} then step_{{ steps | last }}.{{ column }}_{{ step + offset }}
            {%- endfor %}
        end as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from step_{{ steps | last }}
    cross join step_numbers

),

reached as (

    select * from steps_unpivoted
    where reached_at is not null

)
{%- endmacro %}
