{#- SQL for a generic test of one rule over several columns of a model: per column of `checks` (a
    list of [column, condition] pairs; a row fails the column where its condition is true), the
    column's name and how many rows fail it, as `count_name`, for the columns some row fails. One
    test and one scan per model instead of one per column (each dbt test node costs a query, its
    compilation and, under Dagster, an asset check's events). The counts are one aggregate, turned
    into rows by a join with the column names: a union per column would scan the model once per
    column on Spark, which inlines the CTE in every branch. -#}
{% macro columns_failing(model, checks, count_name) %}
    with checked as (
        select
            {%- for column, condition in checks %}
            {{ condition }} as failing_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    failing_counts as (
        select
            {%- for column, condition in checks %}
            sum(case when failing_{{ loop.index }} then 1 else 0 end) as count_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from checked
    ),

    counted as (
        select
            tested.column_name,
            case tested.position
                {%- for column, condition in checks %}
                when {{ loop.index }} then failing_counts.count_{{ loop.index }}
                {%- endfor %}
            end as {{ count_name }}
        from failing_counts
        cross join (
            values
            {%- for column, condition in checks %}
            ({{ loop.index }}, '{{ column }}'){{ ',' if not loop.last }}
            {%- endfor %}
        ) as tested (position, column_name)
    )

    select column_name, {{ count_name }}
    from counted
    where {{ count_name }} > 0
{% endmacro %}
