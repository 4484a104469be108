{#- Select-list items turning a map into one row per entry, as columns `key_name` and `value_name`. -#}
{% macro unnest_map(map, key_name, value_name) %}
    {{ return(adapter.dispatch('unnest_map', 'commerce_analytics')(map, key_name, value_name)) }}
{% endmacro %}

{#- Two unnests in one select advance together: keys and values stay paired. -#}
{% macro default__unnest_map(map, key_name, value_name) -%}
    unnest(map_keys({{ map }})) as {{ key_name }},
    unnest(map_values({{ map }})) as {{ value_name }}
{%- endmacro %}

{% macro spark__unnest_map(map, key_name, value_name) -%}
    explode({{ map }}) as ({{ key_name }}, {{ value_name }})
{%- endmacro %}
