{#- Aggregate: the earliest of a group's `n` latest values of `expression` (its earliest value when it
    has fewer). Ties do not matter: any `n` latest rows hold the same `n` values. A top-n aggregate
    keeps `n` values per group, where a row number over the group sorts every row of it. -#}
{% macro earliest_of_latest(expression, n) %}
    {{ return(adapter.dispatch('earliest_of_latest', 'commerce_analytics')(expression, n)) }}
{% endmacro %}

{% macro default__earliest_of_latest(expression, n) -%}
    list_min(max({{ expression }}, {{ n }}))
{%- endmacro %}

{% macro spark__earliest_of_latest(expression, n) -%}
    array_min(slice(sort_array(collect_list({{ expression }}), false), 1, {{ n }}))
{%- endmacro %}
