{#- A `landing` source (manifest records, quarantined rows) read in place, or an empty relation
    with its documented columns while no file of it exists (DuckDB cannot read an empty glob).
    Keeps the source() lineage edge. -#}
{% macro landing_source(table_name) %}
    {{ return(adapter.dispatch('landing_source', 'commerce_analytics')(table_name)) }}
{% endmacro %}

{% macro default__landing_source(table_name) %}
    {%- set relation = source('landing', table_name) -%}
    {#- a unit test's graph has no sources: its fixture stands in for the source -#}
    {%- if not execute or 'sources' not in graph -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', 'landing')
        | selectattr('name', 'equalto', table_name) | first -%}
    {%- set found = run_query("select count(*) from glob('" ~ node.config.meta.files ~ "')").columns[0].values()[0] -%}
    {%- if found > 0 -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return(empty_typed_relation(node)) }}
{% endmacro %}

{% macro spark__landing_source(table_name) %}
    {#- declare_external_sources registered it over the folder, which reads empty when it is. -#}
    {{ return(source('landing', table_name)) }}
{% endmacro %}
