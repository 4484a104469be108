{#- Spark: an incremental model's table is partitioned by its unique key, the (store, local date)
    partition it is rebuilt by, so insert_overwrite replaces exactly the partitions a run rebuilt,
    as delete+insert does on DuckDB (the profile sets dynamic partition overwrite). An explicit
    partition_by still wins. Overrides dbt-spark's version. -#}
{% macro spark__partition_cols(label, required=false) %}
    {%- set cols = config.get('partition_by') -%}
    {%- if cols is none and config.get('materialized') == 'incremental' -%}
        {%- set cols = config.get('unique_key') -%}
    {%- endif -%}
    {%- if cols is not none -%}
        {{ label }} ({{ ([cols] if cols is string else cols) | join(', ') }})
    {%- endif -%}
{%- endmacro %}
