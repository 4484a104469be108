-- Recommendation impressions and clicks per store-local date and placement, over counted
-- (consented, non-bot) traffic: the one daily aggregate of recommendations
-- (recommendation_performance_daily joins its attribution to it, kpis_daily sums it).
with events as (

    select * from {{ ref('int_events_sessionized') }}

)

select
    store_id,
    event_date as date,
    recommendation_placement,
    count(case when event_type = 'recommendation_impression' then 1 end) as impressions,
    count(case when event_type = 'recommendation_click' then 1 end) as clicks
from events
where
    event_type in ('recommendation_impression', 'recommendation_click')
    and recommendation_placement is not null
group by
    store_id,
    event_date,
    recommendation_placement
