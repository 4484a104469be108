{#- A funnel step's counts, over its rows grouped by step (a row a unit that reached the step, with
    `next_step_reached_at`): `entrants`, and `reached_next`, how many of them reached the next
    step. The last step (`last_step`, a condition on the grouped columns) has no next one: NULL
    there, not a 100 % drop-off. Call it indented to the select list (`| indent(8)`). -#}
{% macro funnel_step_counts(last_step='is_last_step') -%}
count(*) as entrants,
case when not ({{ last_step }}) then count(next_step_reached_at) end as reached_next
{%- endmacro %}
