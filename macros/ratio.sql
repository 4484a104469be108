{#- numerator / denominator as a double; NULL (never 0, never an error) when the denominator is 0
    (METRICS.md). DOUBLE is spelled the same on DuckDB and Spark. -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}
