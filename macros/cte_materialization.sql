{#- The keyword that keeps a CTE read by several parts of a query inlined into each: DuckDB
    otherwise materialises such a CTE, every column of every row, before any part reads it (on a
    14.5 M-event day `int_events_classified` wrote 15.8 GB of it). Inlined, each part reads only
    the columns it needs and the filters reach the scan. Inlining a CTE copies its own references,
    so the CTEs it reads are marked too: on the 14.4 M-event peak day the rebuilt partitions of
    `int_events_sessionized` took 23.7 s with `events`, `stitched` and `partitions` inlined against
    56.7 s materialised, and `int_sessions_summarized` 2.3 s against 19.4 s (docs/performance.md).
    Spark inlines CTEs already. -#}
{% macro inlined() %}
    {{ return(adapter.dispatch('inlined', 'commerce_analytics')()) }}
{% endmacro %}

{% macro duckdb__inlined() -%}
    not materialized
{%- endmacro %}

{% macro default__inlined() -%}
{%- endmacro %}

{#- The keyword that makes DuckDB compute a CTE once for all its readers, for a narrow CTE read by
    several parts of a query whose own input is costly to expand again (each expansion of
    `stg_storefront__events` finds the first copy of every event id ever landed). Spark plans a
    CTE read twice as two reads; it has no such keyword. -#}
{% macro computed_once() %}
    {{ return(adapter.dispatch('computed_once', 'commerce_analytics')()) }}
{% endmacro %}

{% macro duckdb__computed_once() -%}
    materialized
{%- endmacro %}

{% macro default__computed_once() -%}
{%- endmacro %}
