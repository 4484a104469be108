{#- The JSON object at a JSONPath in a JSON text as a map from its keys to values of `value_type`
    ('json' keeps each value as JSON text). -#}
{% macro json_object_map(json, path, value_type) %}
    {{ return(adapter.dispatch('json_object_map', 'commerce_analytics')(json, path, value_type)) }}
{% endmacro %}

{% macro default__json_object_map(json, path, value_type) -%}
    cast(json_extract({{ json }}, '{{ path }}') as map(varchar, {{ value_type }}))
{%- endmacro %}

{% macro spark__json_object_map(json, path, value_type) -%}
    from_json(get_json_object({{ json }}, '{{ path }}'), 'map<string, {{ engine_type(value_type) }}>')
{%- endmacro %}
