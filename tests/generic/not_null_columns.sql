{#- None of `columns` holds a NULL, and none of `retained` does except where the retention purge has
    been: one test per model (macros/columns_failing.sql). A failing row names a column and how many
    of its values are NULL.

    A `retained` column of class C (its `meta.pii`) may be NULL on rows dated before the last
    purge's reference date less C's retention (`pii_retained_since`). `dated_by` is the row's date
    as the purge measures it: the UTC date of the raw partition field for staging, the key date of an
    incremental table. With `unconsented`, also on rows dated before the days whose unconsented events
    the purge stripped of their clear ids (orchestration/governance/unconsented.py): staging cannot
    tell those events from others without the consent the build joins later. -#}
{% test not_null_columns(model, columns=[], retained=[], dated_by=none, unconsented=false) %}

    {%- set checks = [] -%}
    {%- for column in columns + retained -%}
        {%- set condition = column ~ ' is null' -%}
        {%- if column in retained -%}
            {%- set condition = condition ~ ' and ' ~ kept_by_purge(column, dated_by, unconsented) -%}
        {%- endif -%}
        {%- do checks.append([column, condition]) -%}
    {%- endfor -%}
    {{ columns_failing(model, checks, 'null_values') }}

{% endtest %}
