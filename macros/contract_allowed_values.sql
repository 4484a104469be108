{#- {column: [values]} of the columns of the landed extract `extract` that its contract gives allowed
    values, read from the generated source definitions (models/staging/_raw__sources.yml). -#}
{% macro contract_allowed_values(extract) -%}
    {%- set tables = graph.sources.values() | selectattr('name', 'equalto', extract) | list -%}
    {%- if tables | length != 1 -%}
        {{ exceptions.raise_compiler_error('no landed extract is named ' ~ extract) }}
    {%- endif -%}
    {%- set allowed = {} -%}
    {%- for column in tables[0].columns.values() if column.meta.allowed -%}
        {%- do allowed.update({column.name: column.meta.allowed}) -%}
    {%- endfor -%}
    {{ return(allowed) }}
{%- endmacro %}

{#- The column names the running test's model declares in its YAML. -#}
{% macro tested_model_columns() -%}
    {{ return(graph.nodes[model.attached_node].columns.keys() | list) }}
{%- endmacro %}
