with events as (

    select * from {{ ref('int_events_sessionized') }}

),

sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

views_per_page as (

    select
        store_id,
        event_date as date,
        page_path,
        count(*) as views,
        count(distinct visitor_id) as visitors,
        -- the session's last page has no time on page: it is left out of the mean
        count(seconds_on_page) as timed_views,
        sum(seconds_on_page) as seconds_on_page
    from events
    where is_page_view
    group by
        store_id,
        event_date,
        page_path

),

entrances_per_page as (

    select
        store_id,
        session_date as date,
        landing_page_path as page_path,
        count(*) as entrances,
        count(case when is_bounce then 1 end) as bounces
    from sessions
    where landing_page_path is not null
    group by
        store_id,
        session_date,
        landing_page_path

),

final as (

    select
        views_per_page.store_id,
        views_per_page.date,
        views_per_page.page_path,
        views_per_page.views,
        views_per_page.visitors,
        views_per_page.timed_views,
        views_per_page.seconds_on_page,
        coalesce(entrances_per_page.entrances, 0) as entrances,
        coalesce(entrances_per_page.bounces, 0) as bounces
    from views_per_page
    left join entrances_per_page
        on
            views_per_page.store_id = entrances_per_page.store_id
            and views_per_page.date = entrances_per_page.date
            and views_per_page.page_path = entrances_per_page.page_path

)

select
    *,
    {{ ratio('seconds_on_page', 'timed_views') }} as avg_seconds_on_page,
    -- of the sessions that entered on this page, the share that saw no other page
    {{ ratio('bounces', 'entrances') }} as bounce_rate
from final
{{ open_days_only('date') }}
