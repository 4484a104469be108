{#- How many local days after a visitor's funnel entry day its conversion window can reach: a window
    of N days from an instant on local day d ends on day d + N, or d + N + 1 when the clocks went
    forward in between. int_visitor_funnel_steps reads that far and deletes that far back. -#}
{% macro funnel_reach_days() -%}
    {{ return(var('funnel_conversion_window_days') + 1) }}
{%- endmacro %}
