{#- dbt unit tests look up the column types of their inputs in the catalog, where external
    Parquet sources do not exist: create an empty, typed view for each one (on-run-start). -#}
{% macro shadow_external_sources() %}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.config.meta.external_location and node.columns -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ adapter.quote(column.name)) -%}
            {%- endfor -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do run_query('create or replace view ' ~ node.schema ~ '.' ~ node.identifier
                ~ ' as select ' ~ columns | join(', ') ~ ' where false') -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
