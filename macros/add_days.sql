{#- An instant `days` calendar days later (in the session's time zone, UTC on both engines).
    DuckDB: dbt's dateadd, unchanged. Spark: timestampadd, where dbt-spark's dateadd goes through
    Unix seconds (dropping the fraction) and wraps its argument in assert_true, which made the
    funnel's chained step joins take minutes to plan and run. -#}
{% macro add_days(days, instant) %}
    {{ return(adapter.dispatch('add_days', 'commerce_analytics')(days, instant)) }}
{% endmacro %}

{% macro default__add_days(days, instant) -%}
    {{ dbt.dateadd('day', days, instant) }}
{%- endmacro %}

{% macro spark__add_days(days, instant) -%}
    timestampadd(day, {{ days }}, {{ instant }})
{%- endmacro %}
