{#- Pre-hook of an incremental daily mart that rebuilds every open day: on an incremental run,
    first delete the days the retention purge has not closed, so a store-day whose inputs are all
    gone (an erased customer's only device, a day whose every event a late withdrawal excludes)
    goes too; delete+insert only replaces the days the new rows name. The arguments are the
    mart's own `closed_by_purge` ones. On Spark, which has no DELETE on Parquet, insert_overwrite
    replaces the partitions it writes (erasure runs on the DuckDB warehouse). -#}
{% macro delete_open_days(date_column, trailing_days=0, pii='low') %}
    {{ return(adapter.dispatch('delete_open_days', 'commerce_analytics')(date_column, trailing_days, pii)) }}
{% endmacro %}

{% macro duckdb__delete_open_days(date_column, trailing_days, pii) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where not {{ closed_by_purge(date_column, trailing_days, pii) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__delete_open_days(date_column, trailing_days, pii) -%}
{%- endmacro %}
