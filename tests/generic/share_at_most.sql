{#- Fails for each group whose share of rows with a true `column_name` exceeds `max_share`; rows
    where the column is NULL (nothing to check) do not count. Returns the offending groups with
    their findings, rows checked and share. -#}
{% test share_at_most(model, column_name, max_share, group_by) %}

    select
        {{ group_by | join(', ') }},
        sum(case when {{ column_name }} then 1 else 0 end) as findings,
        count({{ column_name }}) as rows_checked,
        sum(case when {{ column_name }} then 1 else 0 end) / count({{ column_name }}) as finding_share
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ group_by | join(', ') }}
    having sum(case when {{ column_name }} then 1 else 0 end) > {{ max_share }} * count({{ column_name }})

{% endtest %}
