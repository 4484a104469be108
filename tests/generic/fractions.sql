{#- Each of `columns` is a rate: a fraction in [0, 1] or NULL (METRICS.md). One test per model
    (macros/columns_failing.sql); a failing row names a column and how many of its values are
    outside [0, 1]. -#}
{% test fractions(model, columns) %}

    {%- set checks = [] -%}
    {%- for column in columns -%}
        {%- do checks.append([column, column ~ ' < 0 or ' ~ column ~ ' > 1']) -%}
    {%- endfor -%}
    {{ columns_failing(model, checks, 'values_outside') }}

{% endtest %}
