{#- True when a regular expression matches anywhere in a string (Spark: RLIKE). -#}
{% macro regex_matches(value, pattern) %}
    {{ return(adapter.dispatch('regex_matches', 'commerce_analytics')(value, pattern)) }}
{% endmacro %}

{% macro duckdb__regex_matches(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(value, pattern) -%}
    ({{ value }} rlike {{ pattern }})
{%- endmacro %}
