-- Store x local date: distinct visitors with a session that day, over the trailing 7 and 30 days.
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

visitor_days as (

    select distinct
        store_id,
        session_date as date,
        visitor_id
    from sessions

),

store_days as (

    select distinct
        store_id,
        date
    from visitor_days

),

visitors_in_window as (

    select
        store_days.store_id,
        store_days.date,
        visitor_days.visitor_id,
        {{ dbt.datediff('visitor_days.date', 'store_days.date', 'day') }} as days_ago  -- noqa: LT05
    from store_days
    inner join visitor_days
        on
            store_days.store_id = visitor_days.store_id
            and store_days.date >= visitor_days.date
            and {{ dbt.dateadd('day', -30, 'store_days.date') }} < visitor_days.date

)

select
    store_id,
    date,
    count(distinct case when days_ago = 0 then visitor_id end) as dau,
    count(distinct case when days_ago < 7 then visitor_id end) as wau,
    count(distinct visitor_id) as mau
from visitors_in_window
group by
    store_id,
    date
