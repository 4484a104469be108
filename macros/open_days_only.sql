{#- The tail of an incremental daily mart that rebuilds every day the retention purge has not
    closed: on an incremental run, a `where` keeping only those open days, and a pre-hook deleting
    them from the mart first, so a store-day whose inputs are all gone (an erased customer's only
    device, a day whose every event a late withdrawal excludes) goes too; delete+insert only
    replaces the days the new rows name. One call sets both, so the filter and the delete cannot
    disagree. The arguments are `closed_by_purge`'s; the hook reads the mart's own column of
    `date_column` (`reported.date` deletes by `date`). Called outside any `is_incremental()` block:
    dbt registers the hook when it parses the model, where that is false. -#}
{% macro open_days_only(date_column, trailing_days=0, pii='low') -%}
    {%- set own_column = date_column.split('.')[-1] -%}
    {%- do config(
        pre_hook=["{{ delete_open_days('" ~ own_column ~ "', " ~ trailing_days ~ ", '" ~ pii ~ "') }}"],
        post_hook=["{{ empty_days_not_rewritten('" ~ own_column ~ "', " ~ trailing_days ~ ", '" ~ pii ~ "') }}"],
    ) -%}
{{ open_days_filter(date_column, trailing_days, pii) }}
{%- endmacro %}

{#- On an incremental run, a `where` keeping the days the retention purge has not closed (arguments
    as closed_by_purge's); nothing on a full build. The filter of open_days_only, alone for a mart
    that rebuilds only some open days (funnel_visitors_daily). -#}
{% macro open_days_filter(date_column, trailing_days=0, pii='low') -%}
    {%- if is_incremental() %}
-- days the retention purge closed keep the rows built before it
where not {{ closed_by_purge(date_column, trailing_days, pii) }}
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook's SQL. Spark has no DELETE on Parquet: there the post-hook below does the work. -#}
{% macro delete_open_days(date_column, trailing_days, pii) %}
    {{ return(adapter.dispatch('delete_open_days', 'commerce_analytics')(date_column, trailing_days, pii)) }}
{% endmacro %}

{% macro duckdb__delete_open_days(date_column, trailing_days, pii) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where not {{ closed_by_purge(date_column, trailing_days, pii) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__delete_open_days(date_column, trailing_days, pii) -%}
{%- endmacro %}

{#- The post-hook's SQL, Spark's counterpart of the delete: insert_overwrite replaced the open days
    the run's new rows (dbt-spark's `__dbt_tmp` view, alive until the model ends) hold. An open day
    of the table they do not hold lost its inputs: each such partition is emptied as the hook
    renders. Days the purge closed keep their rows, as on DuckDB. -#}
{% macro empty_days_not_rewritten(date_column, trailing_days, pii) %}
    {{ return(adapter.dispatch('empty_days_not_rewritten', 'commerce_analytics')(date_column, trailing_days, pii)) }}
{% endmacro %}

{% macro spark__empty_days_not_rewritten(date_column, trailing_days, pii) -%}
    {%- set new_rows = this.identifier ~ '__dbt_tmp' -%}
    {#- a first or full-refresh build writes the table whole, without the view -#}
    {%- if execute and run_query("show views like '" ~ new_rows ~ "'").rows | length -%}
        {%- set unwritten -%}
            select distinct
                store_id,
                {{ date_column }}
            from {{ this }}
            where not {{ closed_by_purge(date_column, trailing_days, pii) }}
            except
            select distinct
                store_id,
                {{ date_column }}
            from {{ new_rows }}
        {%- endset -%}
        {%- do empty_spark_partitions(date_column, unwritten) -%}
    {%- endif -%}
{%- endmacro %}

{% macro default__empty_days_not_rewritten(date_column, trailing_days, pii) -%}
{%- endmacro %}
