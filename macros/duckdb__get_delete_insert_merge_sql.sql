{#- delete+insert on DuckDB that deletes by the distinct keys of the new rows. dbt-duckdb's own
    version joins the target to every new row (`delete ... using <new rows>`), so a partition of n
    rows replacing one of m makes n x m matches: the incremental event models took longer than a
    full build. Same statements otherwise (incremental predicates, then the insert). -#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- if unique_key -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        delete from {{ target }} as dbt_incremental_target
        using (
            select distinct {{ keys | join(', ') }}
            from {{ source }}
        ) as dbt_incremental_keys
        where
            {% for key in keys -%}
                dbt_incremental_keys.{{ key }} = dbt_incremental_target.{{ key }}
                {{- " and" if not loop.last }}
            {% endfor -%}
            {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
            {%- endfor %};
    {%- endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}
