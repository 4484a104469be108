{#- ISO day of week of a date: 1 = Monday .. 7 = Sunday. Spark has no `isodow`; its weekday()
    counts from Monday = 0. -#}
{% macro iso_day_of_week(date) %}
    {{ return(adapter.dispatch('iso_day_of_week', 'commerce_analytics')(date)) }}
{% endmacro %}

{% macro default__iso_day_of_week(date) -%}
    extract(isodow from {{ date }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date) -%}
    (weekday({{ date }}) + 1)
{%- endmacro %}
