{#- A 64-bit hash of `expression`, to find the few repeated values of a column cheaper than by
    grouping the values themselves (equal hashes still need the values compared). -#}
{% macro key_hash(expression) %}
    {{ return(adapter.dispatch('key_hash', 'commerce_analytics')(expression)) }}
{% endmacro %}

{% macro duckdb__key_hash(expression) -%}
    hash({{ expression }})
{%- endmacro %}

{% macro default__key_hash(expression) -%}
    xxhash64({{ expression }})
{%- endmacro %}
