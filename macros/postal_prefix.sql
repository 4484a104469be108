{#- The postal area of a postal code: its first three characters, spaces removed, upper case (a US
    ZIP3, the start of a UK outward code). The key of the store's geography reference
    (stg_logistics__postal_areas); coarse enough to be low class where the full code is medium. -#}
{% macro postal_prefix(postal_code) -%}
    upper(substring(replace(trim({{ postal_code }}), ' ', ''), 1, 3))
{%- endmacro %}
