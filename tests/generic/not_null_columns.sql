{#- None of `columns` holds a NULL, and none of `retained` does except where the retention purge has
    been: one test and one scan per model instead of one per column (each dbt test node costs a
    query, its compilation and, under Dagster, an asset check's events). A failing row names a
    column and how many of its values are NULL. The counts are one aggregate, turned into rows by a
    join with the column names: a union per column would scan the model once per column on Spark,
    which inlines the CTE in every branch.

    A `retained` column of class C (its `meta.pii`) may be NULL on rows dated before the last
    purge's reference date less C's retention (`pii_retained_since`). `dated_by` is the row's date
    as the purge measures it: the UTC date of the raw partition field for staging, the key date of an
    incremental table. With `unconsented`, also on rows dated before the days whose unconsented events
    the purge stripped of their clear ids (orchestration/governance/unconsented.py): staging cannot
    tell those events from others without the consent the build joins later. -#}
{% test not_null_columns(model, columns=[], retained=[], dated_by=none, unconsented=false) %}

    {%- set tested = columns + retained -%}
    with checked as (
        select
            {%- for column in tested %}
            {{ column }} is null
            {%- if column in retained %} and {{ kept_by_purge(column, dated_by, unconsented) }}{% endif %} as missing_{{ loop.index }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    null_counts as (
        select
            {%- for column in tested %}
            sum(case when missing_{{ loop.index }} then 1 else 0 end) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from checked
    ),

    counted as (
        select
            tested.column_name,
            case tested.position
                {%- for column in tested %}
                when {{ loop.index }} then null_counts.nulls_{{ loop.index }}
                {%- endfor %}
            end as null_values
        from null_counts
        cross join (
            values
            {%- for column in tested %}
            ({{ loop.index }}, '{{ column }}'){{ ',' if not loop.last }}
            {%- endfor %}
        ) as tested (position, column_name)
    )

    select column_name, null_values
    from counted
    where null_values > 0

{% endtest %}
