{#- The window function giving the last non-NULL value of `expression` in its frame (the caller
    writes the `over` clause): DuckDB and Spark place IGNORE NULLS on either side of the
    parenthesis, and neither reads the other's. -#}
{% macro last_non_null(expression) %}
    {{ return(adapter.dispatch('last_non_null', 'commerce_analytics')(expression)) }}
{% endmacro %}

{% macro duckdb__last_non_null(expression) -%}
    last_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro default__last_non_null(expression) -%}
    last_value({{ expression }}) ignore nulls
{%- endmacro %}
