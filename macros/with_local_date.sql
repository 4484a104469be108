{#- Every row of a relation with the store-local date of one of its UTC timestamps: the one place
    that joins the stores for their time zone, so models do not repeat that join. `where`, a
    condition on the relation's own columns, keeps only the rows it holds for. -#}
{% macro with_local_date(relation, timestamp, date_column, where=none) -%}
    select
        localized_rows.*,
        {{ local_date('localized_rows.' ~ timestamp, 'store_time_zones.time_zone') }} as {{ date_column }}
    from
        {%- if where is none %} {{ relation }}
        {%- else %} (select * from {{ relation }} where {{ where }})
        {%- endif %} as localized_rows
    inner join {{ ref('stg_oms__stores') }} as store_time_zones
        on localized_rows.store_id = store_time_zones.store_id
{%- endmacro %}
