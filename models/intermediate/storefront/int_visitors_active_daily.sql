-- Store x local date: distinct visitors with a session that day, over the trailing 7 and 30 days.
--
-- Incremental by store and local date (macros/rebuilt_partitions.sql): a day's counts change when
-- any session day of its trailing 30 changes, so its stamp is the latest stamp of those days, taken
-- from one row per session day; a run then reads the visitors of only the days its rebuilt days
-- look back on, not every session of the history.
{%- set trailing_days = 30 %}
with sessions as {{ inlined() }} (

    select * from {{ ref('int_sessions_summarized') }}

),

session_days as {{ inlined() }} (

    {{ partition_stamps('sessions', 'session_date') | indent(4) }}

),

store_days as (

    select
        store_days.store_id,
        store_days.session_date as date,
        max(window_days.partition_landed_at) as partition_landed_at
    from session_days as store_days
    inner join session_days as window_days
        on
            store_days.store_id = window_days.store_id
            and store_days.session_date >= window_days.session_date
            and {{ dbt.dateadd('day', -trailing_days, 'store_days.session_date') }} < window_days.session_date
    group by
        store_days.store_id,
        store_days.session_date

),

{% if is_incremental() %}
rebuilt as (

    {{ rebuilt_partitions('store_days', 'date', missing=true) | indent(4) }}

),

reach as (

    select
        store_id,
        {{ dbt.dateadd('day', -trailing_days, 'min(date)') }} as after_date,
        max(date) as last_date
    from rebuilt
    group by store_id

),
{% endif %}

visitor_days as (

    select distinct
        sessions.store_id,
        sessions.session_date as date,
        sessions.visitor_id
    from sessions
    {%- if is_incremental() %}
    inner join reach
        on
            sessions.store_id = reach.store_id
            and sessions.session_date > reach.after_date
            and sessions.session_date <= reach.last_date
    {%- endif %}

),

visitors_in_window as (

    select
        store_days.store_id,
        store_days.date,
        store_days.partition_landed_at,
        visitor_days.visitor_id,
        {{ dbt.datediff('visitor_days.date', 'store_days.date', 'day') }} as days_ago  -- noqa: LT05
    from store_days
    inner join visitor_days
        on
            store_days.store_id = visitor_days.store_id
            and store_days.date >= visitor_days.date
            and {{ dbt.dateadd('day', -trailing_days, 'store_days.date') }} < visitor_days.date
    {%- if is_incremental() %}
    inner join rebuilt
        on
            store_days.store_id = rebuilt.store_id
            and store_days.date = rebuilt.date
    {%- endif %}

)

select
    store_id,
    date,
    count(distinct case when days_ago = 0 then visitor_id end) as dau,
    count(distinct case when days_ago < 7 then visitor_id end) as wau,
    count(distinct visitor_id) as mau,
    partition_landed_at
from visitors_in_window
group by
    store_id,
    date,
    partition_landed_at
