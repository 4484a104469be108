{#- Integer division of two integers, truncated: DuckDB's `/` of integers is a double. Dispatched. -#}
{% macro integer_quotient(dividend, divisor) %}
    {{ return(adapter.dispatch('integer_quotient', 'commerce_analytics')(dividend, divisor)) }}
{% endmacro %}

{% macro default__integer_quotient(dividend, divisor) -%}
    ({{ dividend }}) // ({{ divisor }})
{%- endmacro %}

{% macro spark__integer_quotient(dividend, divisor) -%}
    ({{ dividend }}) div ({{ divisor }})
{%- endmacro %}
