{#- The keyword that keeps a CTE read by several parts of a query inlined into each: DuckDB
    otherwise materialises such a CTE, every column of every row, before any part reads it (on a
    14.5 M-event day `int_events_classified` wrote 15.8 GB of it). Inlined, each part reads only
    the columns it needs and the filters reach the scan. Spark inlines CTEs already. -#}
{% macro inlined() %}
    {{ return(adapter.dispatch('inlined', 'commerce_analytics')()) }}
{% endmacro %}

{% macro duckdb__inlined() -%}
    not materialized
{%- endmacro %}

{% macro default__inlined() -%}
{%- endmacro %}
