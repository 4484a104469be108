{#- Marts live in a schema named exactly `marts` (METRICS.md), not `<target schema>_marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
