-- Sessions per store-local date, platform, channel group, device type and country: the one daily
-- aggregate of the session measures that add up (kpis_daily, platform_performance_daily and
-- kpis_daily_by_segment sum it). Distinct visitors do not add up across segments: they are counted
-- where they are published.
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

)

select
    store_id,
    session_date as date,
    platform,
    coalesce(channel_group, '(unattributed)') as channel_group,
    coalesce(device_type, '(unknown)') as device_type,
    coalesce(country, '(unknown)') as country,
    count(*) as sessions,
    count(case when is_converted then 1 end) as converted_sessions,
    count(case when is_bounce then 1 end) as bounced_sessions,
    cast(sum(page_views) as {{ dbt.type_bigint() }}) as page_views,
    sum(duration_seconds) as session_seconds
from sessions
group by
    store_id,
    session_date,
    platform,
    coalesce(channel_group, '(unattributed)'),
    coalesce(device_type, '(unknown)'),
    coalesce(country, '(unknown)')
