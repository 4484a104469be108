-- Sessions per store-local date, platform, channel group, device type, country and region (of the
-- customer's address, int_sessions_located): the one daily aggregate of the session measures that
-- add up (kpis_daily, platform_performance_daily and kpis_daily_by_segment sum it). Distinct
-- visitors do not add up across segments: they are counted where they are published.
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

located as (

    select * from {{ ref('int_sessions_located') }}

)

select
    sessions.store_id,
    sessions.session_date as date,
    sessions.platform,
    coalesce(sessions.channel_group, '(unattributed)') as channel_group,
    coalesce(sessions.device_type, '(unknown)') as device_type,
    coalesce(sessions.country, '(unknown)') as country,
    coalesce(located.region, 'unknown') as region,
    count(*) as sessions,
    count(case when sessions.is_converted then 1 end) as converted_sessions,
    count(case when sessions.is_bounce then 1 end) as bounced_sessions,
    cast(sum(sessions.page_views) as {{ dbt.type_bigint() }}) as page_views,
    sum(sessions.duration_seconds) as session_seconds
from sessions
left join located
    on sessions.session_id = located.session_id
group by
    sessions.store_id,
    sessions.session_date,
    sessions.platform,
    coalesce(sessions.channel_group, '(unattributed)'),
    coalesce(sessions.device_type, '(unknown)'),
    coalesce(sessions.country, '(unknown)'),
    coalesce(located.region, 'unknown')
