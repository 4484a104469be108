-- Additive measures only: distinct counts (visitors) do not sum across segments.
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

sessions_per_segment as (

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
    group by 1, 2, 3, 4, 5, 6

),

orders_per_segment as (

    select
        store_id,
        order_date as date,
        platform,
        channel_group,
        device_type,
        country,
        count(*) as orders,
        cast(sum(items_sold) as {{ dbt.type_bigint() }}) as items_sold,
        sum(gmv) as gmv,
        sum(gmv_usd) as gmv_usd,
        sum(discounts) as discounts,
        sum(discounts_usd) as discounts_usd
    from orders
    group by 1, 2, 3, 4, 5, 6

),

segments as (

    select
        store_id,
        date,
        platform,
        channel_group,
        device_type,
        country
    from sessions_per_segment
    union
    select
        store_id,
        date,
        platform,
        channel_group,
        device_type,
        country
    from orders_per_segment

),

final as (

    select
        segments.store_id,
        segments.date,
        segments.platform,
        segments.channel_group,
        segments.device_type,
        segments.country,
        coalesce(sessions_per_segment.sessions, 0) as sessions,
        coalesce(sessions_per_segment.converted_sessions, 0) as converted_sessions,
        coalesce(sessions_per_segment.bounced_sessions, 0) as bounced_sessions,
        coalesce(sessions_per_segment.page_views, 0) as page_views,
        coalesce(sessions_per_segment.session_seconds, 0) as session_seconds,
        coalesce(orders_per_segment.orders, 0) as orders,
        coalesce(orders_per_segment.items_sold, 0) as items_sold,
        coalesce(orders_per_segment.gmv, 0) as gmv,
        coalesce(orders_per_segment.gmv_usd, 0) as gmv_usd,
        coalesce(orders_per_segment.discounts, 0) as discounts,
        coalesce(orders_per_segment.discounts_usd, 0) as discounts_usd
    from segments
    left join sessions_per_segment
        on
            segments.store_id = sessions_per_segment.store_id
            and segments.date = sessions_per_segment.date
            and segments.platform = sessions_per_segment.platform
            and segments.channel_group = sessions_per_segment.channel_group
            and segments.device_type = sessions_per_segment.device_type
            and segments.country = sessions_per_segment.country
    left join orders_per_segment
        on
            segments.store_id = orders_per_segment.store_id
            and segments.date = orders_per_segment.date
            and segments.platform = orders_per_segment.platform
            and segments.channel_group = orders_per_segment.channel_group
            and segments.device_type = orders_per_segment.device_type
            and segments.country = orders_per_segment.country

)

select
    *,
    {{ ratio('converted_sessions', 'sessions') }} as conversion_rate,
    {{ ratio('gmv', 'orders') }} as aov
from final
