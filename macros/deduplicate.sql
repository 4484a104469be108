{#- Keep one row per key, the first by `order_by`; callers then select their columns by name.
    Portable (no QUALIFY, no EXCLUDE), so the same model runs on Spark. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as dedupe_rank
        from {{ relation }}
    ) as ranked
    where dedupe_rank = 1
{%- endmacro %}
