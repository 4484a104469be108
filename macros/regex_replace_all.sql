{#- Every match of a regular expression replaced. DuckDB replaces the first match unless given
    'g'; Spark always replaces all, and a fourth argument there is a position (NULL if unparsable). -#}
{% macro regex_replace_all(value, pattern, replacement) %}
    {{ return(adapter.dispatch('regex_replace_all', 'commerce_analytics')(value, pattern, replacement)) }}
{% endmacro %}

{% macro default__regex_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}
