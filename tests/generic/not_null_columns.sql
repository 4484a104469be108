{#- None of `columns` holds a NULL: one test and one scan per model instead of one per column (each
    dbt test node costs a query, its compilation and, under Dagster, an asset check's events). A
    failing row names a column and how many of its values are NULL. The counts are one aggregate,
    turned into rows by a join with the column names: a union per column would scan the model once
    per column on Spark, which inlines the CTE in every branch. -#}
{% test not_null_columns(model, columns) %}

    with null_counts as (
        select
            {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    counted as (
        select
            tested.column_name,
            case tested.position
                {%- for column in columns %}
                when {{ loop.index }} then null_counts.nulls_{{ loop.index }}
                {%- endfor %}
            end as null_values
        from null_counts
        cross join (
            values
            {%- for column in columns %}
            ({{ loop.index }}, '{{ column }}'){{ ',' if not loop.last }}
            {%- endfor %}
        ) as tested (position, column_name)
    )

    select column_name, null_values
    from counted
    where null_values > 0

{% endtest %}
