{#- The share of a funnel step's entrants that did not reach the next step (of the columns
    funnel_step_counts makes). -#}
{% macro funnel_drop_off_rate() -%}
    {{ ratio('entrants - reached_next', 'entrants') }}
{%- endmacro %}
