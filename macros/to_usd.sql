{#- An amount in USD, rounded to the cent, so that sums of converted amounts reconcile. -#}
{% macro to_usd(amount, usd_per_unit) -%}
    round(cast(({{ amount }}) * ({{ usd_per_unit }}) as decimal(18, 4)), 2)
{%- endmacro %}
