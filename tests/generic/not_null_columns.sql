{#- None of `columns` holds a NULL: one test and one scan per model instead of one per column (each
    dbt test node costs a query, its compilation and, under Dagster, an asset check's events). A
    failing row names a column and how many of its values are NULL. -#}
{% test not_null_columns(model, columns) %}

    with null_counts as (
        select
            {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )

    {% for column in columns -%}
    select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_values
    from null_counts
    where nulls_{{ loop.index }} > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

{% endtest %}
