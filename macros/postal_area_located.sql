{#- Region and city of a postal area looked up in the store's geography reference (a left-joined
    stg_logistics__postal_areas): `unknown` when the address has none, is abroad, or its area is
    not listed, so a row is never dropped for its address. -#}
{% macro postal_area_located(areas) -%}
    coalesce({{ areas }}.region, 'unknown') as region,
    coalesce({{ areas }}.city, 'unknown') as city
{%- endmacro %}
