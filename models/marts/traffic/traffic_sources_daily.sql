with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

per_source as (

    select
        store_id,
        session_date as date,
        coalesce(channel_group, '(unattributed)') as channel_group,
        source,
        medium,
        count(*) as sessions,
        count(distinct visitor_id) as visitors,
        count(case when is_converted then 1 end) as conversions,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as orders,
        sum(revenue) as revenue,
        sum(revenue_usd) as revenue_usd
    from sessions
    group by 1, 2, 3, 4, 5

)

select
    *,
    {{ ratio('conversions', 'sessions') }} as conversion_rate
from per_source
{{ open_days_only('date') }}
