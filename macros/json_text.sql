{#- The text of a scalar at a JSONPath ('$.a.b') in a JSON text; NULL when absent. -#}
{% macro json_text(json, path) %}
    {{ return(adapter.dispatch('json_text', 'commerce_analytics')(json, path)) }}
{% endmacro %}

{% macro default__json_text(json, path) -%}
    json_extract_string({{ json }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_text(json, path) -%}
    get_json_object({{ json }}, '{{ path }}')
{%- endmacro %}
