{#- Seconds from one timestamp to another, exact to the millisecond as a decimal: sums of them do
    not depend on row order, so an incremental build adds up to the same totals as a full one.
    (Multiplying keeps a decimal; dividing would turn it into a double.) -#}
{% macro seconds_between(start_timestamp, end_timestamp) -%}
    cast({{ dbt.datediff(start_timestamp, end_timestamp, 'millisecond') }} as decimal(18, 0)) * 0.001
{%- endmacro %}

{#- Hours from one timestamp to another as a decimal of 4 places (to the 0.36 s), from the exact
    seconds: sums and percentiles of it do not depend on row order. -#}
{% macro hours_between(start_timestamp, end_timestamp) -%}
    cast({{ seconds_between(start_timestamp, end_timestamp) }} / 3600 as decimal(18, 4))
{%- endmacro %}
