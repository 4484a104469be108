{#- Interpolated percentile of an expression (an aggregate), fraction in [0, 1]. Of a decimal of
    `scale` digits DuckDB interpolates in the decimal's own units, lower value + the difference times
    the fraction truncated to a whole unit; Spark interpolates in double, so there the percentile is
    taken of the whole units (exact integers) and its fractional part dropped the same way. -#}
{% macro percentile_cont(expression, fraction, scale=none) %}
    {{ return(adapter.dispatch('percentile_cont', 'commerce_analytics')(expression, fraction, scale)) }}
{% endmacro %}

{% macro default__percentile_cont(expression, fraction, scale) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction, scale) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction, scale) -%}
    {%- if scale is none -%}
        percentile({{ expression }}, {{ fraction }})
    {%- else -%}
        floor(percentile(cast({{ expression }} * {{ 10 ** scale }} as bigint), {{ fraction }})) / {{ 10 ** scale }}
    {%- endif -%}
{%- endmacro %}
