{#- The join condition of an aggregate to its spine (store_day_spine): equal store, day and `also` keys. -#}
{% macro spine_match(spine, relation, also=[]) -%}
    {%- for key in ['store_id', 'date'] + also -%}
        {{ spine }}.{{ key }} = {{ relation }}.{{ key }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
