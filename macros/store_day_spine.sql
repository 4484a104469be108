{#- The distinct store x day keys (plus `also` keys) of several daily aggregates: the spine a model
    left-joins each aggregate to, so a key present in any of them gets one row. -#}
{% macro store_day_spine(relations, also=[]) -%}
    {%- set keys = ['store_id', 'date'] + also -%}
    {%- for relation in relations %}
    select
        {%- for key in keys %}
        {{ key }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
