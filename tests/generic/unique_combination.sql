{#- No two rows share the same values of `columns` (a composite key). With `dated_by`, rows on days
    the retention purge closed are left out: it NULLs a key column past its class's retention in
    place (a page path after two years), so those days' rows no longer have distinct keys. -#}
{% test unique_combination(model, columns, dated_by=none) %}

    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    {%- if dated_by %}
    where not {{ closed_by_purge(dated_by) }}
    {%- endif %}
    group by {{ columns | join(', ') }}
    having count(*) > 1

{% endtest %}
