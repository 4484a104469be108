{#- The additive `columns` of a finer-grained mart, summed per store and local day, equal those of
    kpis_daily (days on which kpis_daily counts nothing of them may be absent). Returns the store-days
    where they differ. -#}
{% test sums_to_kpis_daily(model, columns) %}

    with summed as (

        select
            store_id,
            date,
            {%- for column in columns %}
            sum({{ column }}) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
        group by store_id, date

    ),

    daily as (

        select * from {{ ref('kpis_daily') }}
        where
            {%- for column in columns %}
            {{ column }} <> 0{{ ' or' if not loop.last }}
            {%- endfor %}

    )

    select
        coalesce(summed.store_id, daily.store_id) as store_id,
        coalesce(summed.date, daily.date) as date
    from summed
    full outer join daily
        on {{ spine_match('summed', 'daily') }}
    where
        {%- for column in columns %}
        coalesce(summed.{{ column }}, 0) <> coalesce(daily.{{ column }}, 0){{ ' or' if not loop.last }}
        {%- endfor %}

{% endtest %}
