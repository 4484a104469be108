{#- An empty relation with a source node's documented columns and types: what a source reads as
    before its first file exists (DuckDB cannot read an empty glob). -#}
{% macro empty_typed_relation(node) %}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append('cast(null as ' ~ engine_type(column.data_type) ~ ') as ' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ return('(select ' ~ columns | join(', ') ~ ' where false)') }}
{% endmacro %}
