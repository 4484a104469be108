{#- A rate that a mart shares with kpis_daily, under the same name, must agree with it: the mart's
    numerator and denominator summed per store-day and divided (ratio) give kpis_daily's value of
    the column, NULL where it is NULL. Returns the store-days where they differ, but on days the
    retention purge closed: kpis_daily keeps those as built, while a mart rebuilt from the purged
    inputs may not (closed_by_purge). -#}
{% test agrees_with_kpis_daily(model, column_name, numerator, denominator) %}

    with mart as (

        select
            store_id,
            date,
            {{ ratio('sum(' ~ numerator ~ ')', 'sum(' ~ denominator ~ ')') }} as rate
        from {{ model }}
        group by
            store_id,
            date

    ),

    kpis as (

        select
            store_id,
            date,
            {{ column_name }} as rate
        from {{ ref('kpis_daily') }}

    )

    select
        coalesce(mart.store_id, kpis.store_id) as store_id,
        coalesce(mart.date, kpis.date) as date,
        mart.rate as mart_rate,
        kpis.rate as kpis_daily_rate
    from mart
    full outer join kpis
        on {{ spine_match('mart', 'kpis') }}
    where
        (
            (mart.rate is null) != (kpis.rate is null)
            or abs(mart.rate - kpis.rate) > 1e-9 * greatest(1, abs(kpis.rate))
        )
        and not {{ closed_by_purge('coalesce(mart.date, kpis.date)') }}

{% endtest %}
