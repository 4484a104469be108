-- Shown in Dagster as a check of kpis_daily.
{{ config(meta={'dagster': {'ref': {'name': 'kpis_daily'}}}) }}

-- Sessions, visitors and converted sessions of kpis_daily equal those of fct_sessions per store
-- and local day (visitors on the days the retention purge left open). Returns the days that disagree.
with from_sessions as (

    select
        store_id,
        session_date as date,
        count(*) as sessions,
        count(distinct visitor_id) as visitors,
        count(case when is_converted then 1 end) as converted_sessions
    from {{ ref('fct_sessions') }}
    group by store_id, session_date

),

from_kpis as (

    select
        store_id,
        date,
        sessions,
        visitors,
        converted_sessions
    from {{ ref('kpis_daily') }}
    where sessions > 0

)

select
    coalesce(from_sessions.store_id, from_kpis.store_id) as store_id,
    coalesce(from_sessions.date, from_kpis.date) as date
from from_sessions
full outer join from_kpis
    on
        from_sessions.store_id = from_kpis.store_id
        and from_sessions.date = from_kpis.date
where
    from_sessions.sessions is distinct from from_kpis.sessions
    -- the retention purge clears fct_sessions' visitor ids; kpis_daily keeps the days it closed
    or (
        from_sessions.visitors is distinct from from_kpis.visitors
        and not {{ closed_by_purge('coalesce(from_sessions.date, from_kpis.date)') }}
    )
    or from_sessions.converted_sessions is distinct from from_kpis.converted_sessions
