{#- SQL date: the first date whose `pii`-class values the last retention purge kept (it set those of
    rows dated before it to NULL). NULL before any purge, and for a class kept indefinitely. The
    day counts are PII_RETENTION_DAYS and the purge's reference date comes from the audit table
    (orchestration/governance/retention_state.py): the pii_key plugin hands both to DuckDB, and
    Spark reads them from the file the build writes, so neither is typed twice. -#}
{% macro pii_retained_since(pii) %}
    {{ return(adapter.dispatch('pii_retained_since', 'commerce_analytics')(pii)) }}
{% endmacro %}

{% macro duckdb__pii_retained_since(pii) -%}
    (getvariable('pii_purged_as_of') - getvariable('pii_retention_days')['{{ pii }}'])
{%- endmacro %}

{% macro spark__pii_retained_since(pii) -%}
    (
        select date_sub(cast(purged_as_of as date), cast(retention_days_{{ pii }} as int))
        from {{ spark_retention_state() }}
    )
{%- endmacro %}

{#- SQL date: the first raw (UTC) date whose unconsented events the last purge left their clear ids
    (orchestration/governance/unconsented.py closed_before, set by orchestration/dbt_plugins/pii_key.py). -#}
{% macro unconsented_ids_kept_since() %}
    {{ return(adapter.dispatch('unconsented_ids_kept_since', 'commerce_analytics')()) }}
{% endmacro %}

{% macro duckdb__unconsented_ids_kept_since() -%}
    getvariable('unconsented_ids_kept_since')
{%- endmacro %}

{% macro spark__unconsented_ids_kept_since() -%}
    (select cast(unconsented_ids_kept_since as date) from {{ spark_retention_state() }})
{%- endmacro %}

{#- Spark: the retention state, one JSON line orchestration/governance/retention_state.py writes
    in $DATA_DIR/spark/ before every Spark build. -#}
{% macro spark_retention_state() -%}
    json.`{{ env_var('DATA_DIR', 'data') }}/spark/retention_state.json`
{%- endmacro %}

{#- SQL condition on a row of the model the running test is attached to: the retention purge kept
    `column` on it, by the column's class (`meta.pii`) and the row's `dated_by` date; with
    `unconsented`, the purge of unconsented events' ids kept it too (not_null_columns' `retained`). -#}
{% macro kept_by_purge(column, dated_by, unconsented=false) -%}
    {%- set pii = 'none' -%}
    {%- if execute -%}
        {%- set pii = graph.nodes[model.attached_node].columns[column].meta.pii -%}
    {%- endif -%}
    not coalesce(cast({{ dated_by }} as date) < {{ pii_retained_since(pii) }}, false)
    {%- if unconsented %}
    and not coalesce(cast({{ dated_by }} as date) < {{ unconsented_ids_kept_since() }}, false)
    {%- endif %}
{%- endmacro %}
