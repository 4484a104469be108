with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

orders as (

    select * from {{ ref('int_orders_attributed') }}

),

sessions_per_platform as (

    select
        store_id,
        session_date as date,
        platform,
        count(*) as sessions,
        count(case when is_converted then 1 end) as converted_sessions
    from sessions
    group by
        store_id,
        session_date,
        platform

),

orders_per_platform as (

    select
        store_id,
        order_date as date,
        platform,
        count(*) as orders,
        sum(gmv) as gmv,
        sum(gmv_usd) as gmv_usd
    from orders
    group by
        store_id,
        order_date,
        platform

),

platforms as (

    select
        store_id,
        date,
        platform
    from sessions_per_platform
    union
    select
        store_id,
        date,
        platform
    from orders_per_platform

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
        on
            platforms.store_id = sessions_per_platform.store_id
            and platforms.date = sessions_per_platform.date
            and platforms.platform = sessions_per_platform.platform
    left join orders_per_platform
        on
            platforms.store_id = orders_per_platform.store_id
            and platforms.date = orders_per_platform.date
            and platforms.platform = orders_per_platform.platform

)

select
    *,
    {{ ratio('converted_sessions', 'sessions') }} as conversion_rate
from final
