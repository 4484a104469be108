{#- CTEs step_1 .. step_N and `reached`: when each funnel unit (a session, or a visitor's entry
    day) reached each step, in order. Step 1 is the unit's first step-1 event; step k is its
    first step-k event at or after step k-1 (and, with a window, within `window_days` of step 1).
    `unit_columns` name the unit in `step_events`; `join_columns` tie later events to it. Each
    row carries its step's name and whether it is the store's last step.
    Funnels longer than var('funnel_max_steps') are cut; steps past a store's last come out empty. -#}
{% macro funnel_steps_reached(step_events, unit_columns, join_columns, window_days=none) -%}
step_1 as (

    select
        {%- for column in unit_columns %}
        {{ column }},
        {%- endfor %}
        step_name,
        is_last_step,
        min(event_at) as reached_at,
        min(event_at) as entered_at
    from {{ step_events }}
    where step_number = 1
    group by {{ unit_columns | join(', ') }}, step_name, is_last_step

),
{%- for step in range(2, var('funnel_max_steps') + 1) %}

step_{{ step }} as (

    select
        {%- for column in unit_columns %}
        previous_step.{{ column }},
        {%- endfor %}
        step_events.step_name,
        step_events.is_last_step,
        min(step_events.event_at) as reached_at,
        min(previous_step.entered_at) as entered_at
    from {{ step_events }} as step_events
    inner join step_{{ step - 1 }} as previous_step
        on
            step_events.event_at >= previous_step.reached_at
            {%- for column in join_columns %}
            and step_events.{{ column }} = previous_step.{{ column }}
            {%- endfor %}
            {%- if window_days is not none %}
            and step_events.event_at <= {{ add_days(window_days, 'previous_step.entered_at') }}
            {%- endif %}
    where step_events.step_number = {{ step }}
    group by
        {%- for column in unit_columns %}
        previous_step.{{ column }},
        {%- endfor %}
        step_events.step_name,
        step_events.is_last_step

),
{%- endfor %}

reached as (
    {%- for step in range(1, var('funnel_max_steps') + 1) %}

    select
        {%- for column in unit_columns %}
        {{ column }},
        {%- endfor %}
        step_name,
        is_last_step,
        reached_at,
        {{ step }} as step_number
    from step_{{ step }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)
{%- endmacro %}
