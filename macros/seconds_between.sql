{#- Seconds from one timestamp to another, exact to the millisecond as a decimal: sums of them do
    not depend on row order, so an incremental build adds up to the same totals as a full one.
    (Multiplying keeps a decimal; dividing would turn it into a double.) -#}
{% macro seconds_between(start_timestamp, end_timestamp) -%}
    cast({{ dbt.datediff(start_timestamp, end_timestamp, 'millisecond') }} as decimal(18, 0)) * 0.001
{%- endmacro %}
