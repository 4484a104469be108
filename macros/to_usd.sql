{#- An amount in USD, rounded once to the cent from the exact product (decimal times decimal is
    exact), so that sums of converted amounts reconcile and no value is a cent off. -#}
{% macro to_usd(amount, usd_per_unit) -%}
    cast(round(({{ amount }}) * ({{ usd_per_unit }}), 2) as decimal(18, 2))
{%- endmacro %}
