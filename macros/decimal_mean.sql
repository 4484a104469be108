{#- The mean of a decimal of at most `scale` digits (an aggregate), exact and rounded half away from
    zero to `scale` digits on every engine: DuckDB's avg of a decimal is a double (a mean of 81.445
    reads 81.44499.., cast to 81.44), Spark's an exact decimal (81.45). So it is computed in whole
    units of the last digit, by integer arithmetic: sign x (2 |sum| + n) div 2n. -#}
{% macro decimal_mean(expression, scale=2) -%}
    {%- set units = 'cast(sum(' ~ expression ~ ') * ' ~ 10 ** scale ~ ' as ' ~ dbt.type_bigint() ~ ')' -%}
    {%- set count = 'count(' ~ expression ~ ')' -%}
    case when {{ units }} < 0 then -1 else 1 end
    * {{ integer_quotient('2 * abs(' ~ units ~ ') + ' ~ count, '2 * ' ~ count) }}
    * {{ '0.' ~ '0' * (scale - 1) ~ '1' }}
{%- endmacro %}
