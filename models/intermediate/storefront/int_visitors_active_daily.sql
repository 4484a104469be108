-- Store x local date: distinct visitors with a session that day, over the trailing 7 and 30 days.
--
-- Counted by change points rather than by matching each day with every visit of its trailing 30
-- days: a visitor's visit day counts it from that day until its next visit day, for at most 1, 7
-- or 30 days, so each visit adds 1 to a count on its day and takes it away on the day it stops
-- counting, and a day's count is the running sum of those changes (a visitor's spans never
-- overlap, so none is counted twice).
--
-- Incremental by store and local date (macros/rebuilt_partitions.sql): a day's counts change when
-- any session day of its trailing 30 changes, so its stamp is the latest stamp of those days, taken
-- from one row per session day; a run then reads the visitors of only the days its rebuilt days
-- look back on, not every session of the history: the running sums start there, and no visit
-- before it still counts on a rebuilt day.
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

visits as (

    select
        store_id,
        date,
        lead(date) over (partition by store_id, visitor_id order by date) as next_date
    from visitor_days
    -- a visitor purged away is no visitor (count distinct skipped NULLs likewise)
    where visitor_id is not null

),

-- A visit stops counting in an n-day window n days later, or on the visitor's next visit day,
-- which counts it from then on (least() skips a NULL next visit on DuckDB and Spark alike).
changes as (

    select
        store_id,
        date,
        1 as dau_change,
        1 as wau_change,
        1 as mau_change
    from visits
    union all
    select
        store_id,
        cast(least({{ dbt.dateadd('day', 1, 'date') }}, next_date) as date) as date,
        -1 as dau_change,
        0 as wau_change,
        0 as mau_change
    from visits
    union all
    select
        store_id,
        cast(least({{ dbt.dateadd('day', 7, 'date') }}, next_date) as date) as date,
        0 as dau_change,
        -1 as wau_change,
        0 as mau_change
    from visits
    union all
    select
        store_id,
        cast(least({{ dbt.dateadd('day', trailing_days, 'date') }}, next_date) as date) as date,
        0 as dau_change,
        0 as wau_change,
        -1 as mau_change
    from visits
    union all
    -- every day with sessions gets its running sums, even if none of its visitors is countable
    select
        store_id,
        date,
        0 as dau_change,
        0 as wau_change,
        0 as mau_change
    from store_days

),

active as (

    select
        store_id,
        date,
        sum(sum(dau_change)) over (
            partition by store_id order by date rows between unbounded preceding and current row
        ) as dau,
        sum(sum(wau_change)) over (
            partition by store_id order by date rows between unbounded preceding and current row
        ) as wau,
        sum(sum(mau_change)) over (
            partition by store_id order by date rows between unbounded preceding and current row
        ) as mau
    from changes
    group by
        store_id,
        date

)

select
    store_days.store_id,
    store_days.date,
    cast(active.dau as {{ dbt.type_bigint() }}) as dau,
    cast(active.wau as {{ dbt.type_bigint() }}) as wau,
    cast(active.mau as {{ dbt.type_bigint() }}) as mau,
    store_days.partition_landed_at
from store_days
inner join active
    on
        store_days.store_id = active.store_id
        and store_days.date = active.date
{%- if is_incremental() %}
inner join rebuilt
    on
        store_days.store_id = rebuilt.store_id
        and store_days.date = rebuilt.date
{%- endif %}
