with sessions as (

    select * from {{ ref('int_sessions_daily') }}

),

orders as (

    select * from {{ ref('int_orders_attributed_daily') }}

),

sessions_per_platform as (

    select
        store_id,
        date,
        platform,
        sum(sessions) as sessions,
        sum(converted_sessions) as converted_sessions
    from sessions
    group by
        store_id,
        date,
        platform

),

orders_per_platform as (

    select
        store_id,
        date,
        platform,
        sum(orders) as orders,
        sum(gmv) as gmv,
        sum(gmv_usd) as gmv_usd
    from orders
    group by
        store_id,
        date,
        platform

),

platforms as (

    {{ store_day_spine(['sessions_per_platform', 'orders_per_platform'], also=['platform']) | indent(4) }}

),

final as (

    select
        platforms.store_id,
        platforms.date,
        platforms.platform,
        coalesce(sessions_per_platform.sessions, 0) as sessions,
        coalesce(sessions_per_platform.converted_sessions, 0) as converted_sessions,
        coalesce(orders_per_platform.orders, 0) as orders,
        coalesce(orders_per_platform.gmv, 0) as gmv,
        coalesce(orders_per_platform.gmv_usd, 0) as gmv_usd
    from platforms
    left join sessions_per_platform
        on {{ spine_match('platforms', 'sessions_per_platform', also=['platform']) }}
    left join orders_per_platform
        on {{ spine_match('platforms', 'orders_per_platform', also=['platform']) }}

)

select
    *,
    {{ ratio('converted_sessions', 'sessions') }} as conversion_rate
from final
