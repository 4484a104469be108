{#- On-run-start: dbt-spark runs Python models only on Databricks, and its error from a local
    session does not say so. Stop before building anything, naming the models and the way out. -#}
{% macro refuse_python_models() %}
    {{ return(adapter.dispatch('refuse_python_models', 'commerce_analytics')()) }}
{% endmacro %}

{% macro default__refuse_python_models() %}
{% endmacro %}

{% macro spark__refuse_python_models() %}
    {%- if execute -%}
        {%- set python_models = graph.nodes.values() | selectattr('language', 'equalto', 'python')
            | selectattr('unique_id', 'in', selected_resources) | map(attribute='name') | list -%}
        {%- if python_models -%}
            {{ exceptions.raise_compiler_error(
                'Python models run on Spark only on Databricks, not in a local session: ' ~ python_models | join(', ')
                ~ ' (and the models built on them) are DuckDB-only. Build with --exclude '
                ~ python_models | join('+ --exclude ') ~ '+') }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
