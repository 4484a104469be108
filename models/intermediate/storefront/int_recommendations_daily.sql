-- Recommendation impressions and clicks, and the captured orders they are credited with, per
-- store-local date and placement, over counted (consented, non-bot) traffic: the one daily
-- aggregate of recommendations (recommendation_performance_daily divides it, kpis_daily sums it).
--   attributed revenue = GMV of the captured orders (int_session_conversions.is_captured) of
--                        sessions that clicked a recommendation of the placement for a product
--                        the order contains, the click coming before the order's purchase event.
--                        An order counts once per placement, on the date of its first such click,
--                        and in full for every placement that qualifies (placements may overlap).
with events as (

    select * from {{ ref('int_events_sessionized') }}

),

conversions as (

    select * from {{ ref('int_session_conversions') }}

),

order_items as (

    select * from {{ ref('int_order_items_converted_to_usd') }}

),

placement_events as (

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

),

recommendation_clicks as (

    select
        store_id,
        session_id,
        event_date,
        event_number,
        recommendation_placement,
        product_id
    from events
    where
        event_type = 'recommendation_click'
        and recommendation_placement is not null
        and product_id is not null

),

purchases as (

    select
        session_id,
        order_id,
        min(event_number) as purchase_event_number
    from events
    where event_type = 'purchase' and order_id is not null
    group by
        session_id,
        order_id

),

attributed_orders as (

    select
        recommendation_clicks.store_id,
        recommendation_clicks.recommendation_placement,
        conversions.order_id,
        min(recommendation_clicks.event_date) as date,
        min(conversions.gmv) as gmv,
        min(conversions.gmv_usd) as gmv_usd
    from recommendation_clicks
    inner join purchases
        on
            recommendation_clicks.session_id = purchases.session_id
            and recommendation_clicks.event_number < purchases.purchase_event_number
    inner join conversions
        on
            purchases.session_id = conversions.session_id
            and purchases.order_id = conversions.order_id
    inner join order_items
        on
            conversions.store_id = order_items.store_id
            and conversions.order_id = order_items.order_id
            and recommendation_clicks.product_id = order_items.product_id
    where conversions.is_captured
    group by
        recommendation_clicks.store_id,
        recommendation_clicks.recommendation_placement,
        conversions.order_id

),

attributed as (

    select
        store_id,
        date,
        recommendation_placement,
        count(*) as attributed_orders,
        sum(gmv) as attributed_revenue,
        sum(gmv_usd) as attributed_revenue_usd
    from attributed_orders
    group by
        store_id,
        date,
        recommendation_placement

)

-- an attributed order's first click is a click of its placement on that date: every attributed
-- row has its placement's row
select
    placement_events.store_id,
    placement_events.date,
    placement_events.recommendation_placement,
    placement_events.impressions,
    placement_events.clicks,
    coalesce(attributed.attributed_orders, 0) as attributed_orders,
    coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
    coalesce(attributed.attributed_revenue_usd, 0) as attributed_revenue_usd
from placement_events
left join attributed
    on
        placement_events.store_id = attributed.store_id
        and placement_events.date = attributed.date
        and placement_events.recommendation_placement = attributed.recommendation_placement
