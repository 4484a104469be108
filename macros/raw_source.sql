{#- A landed table (source_name is its source system), or an empty relation with its documented columns while no extract of it
    has landed yet (DuckDB cannot read an empty glob). Keeps the source() lineage edge. -#}
{% macro raw_source(source_name, table_name) %}
    {{ return(adapter.dispatch('raw_source', 'commerce_analytics')(source_name, table_name)) }}
{% endmacro %}

{% macro default__raw_source(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    {%- set pattern = node.config.meta.raw_root ~ '/' ~ table_name ~ '/date=*/part-*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {%- if found > 0 -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return(empty_typed_relation(node)) }}
{% endmacro %}

{% macro spark__raw_source(source_name, table_name) %}
    {#- declare_external_sources registered it as an external table, which reads empty folders. -#}
    {{ return(source(source_name, table_name)) }}
{% endmacro %}
