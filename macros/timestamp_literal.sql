{#- SQL of a timestamp read back from the warehouse by run_query (its text), for a scope's query. -#}
{% macro timestamp_literal(value) -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
