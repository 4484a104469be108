-- Incremental by store and local date: a session never crosses the store's local midnight, so a
-- rebuilt partition re-cuts its sessions whole. `partition_landed_at` is the latest landing time of
-- any input of the partition (excluded events included), so downstream models see the change too.
with events as {{ inlined() }} (

    select * from {{ ref('int_events_classified') }}

),

devices as (

    select * from {{ ref('int_devices_identified') }}

),

stitched as {{ inlined() }} (

    select
        events.*,
        devices.customer_id as stitched_customer_id,
        coalesce(devices.customer_id, events.anonymous_id) as visitor_id,
        -- greatest() skips NULLs on DuckDB and Spark alike
        greatest(events.landed_at, events.consent_landed_at, devices.identified_landed_at) as source_landed_at
    from events
    left join devices
        on
            events.store_id = devices.store_id
            and events.anonymous_id = devices.anonymous_id

),

partitions as {{ inlined() }} (

    select
        store_id,
        event_date,
        max(source_landed_at) as partition_landed_at
    from stitched
    group by
        store_id,
        event_date

),

{% if is_incremental() %}
rebuilt as (

    {{ rebuilt_partitions('partitions', 'event_date') | indent(4) }}

),
{% endif %}

counted as {{ inlined() }} (

    select
        stitched.*,
        partitions.partition_landed_at,
        {{ dbt.concat([
            "coalesce(stitched.utm_source, '')", "'/'",
            "coalesce(stitched.utm_medium, '')", "'/'",
            "coalesce(stitched.utm_campaign, '')",
        ]) }} as campaign_key
    from stitched
    inner join partitions
        on
            stitched.store_id = partitions.store_id
            and stitched.event_date = partitions.event_date
    {%- if is_incremental() %}
    inner join rebuilt
        on
            stitched.store_id = rebuilt.store_id
            and stitched.event_date = rebuilt.event_date
    {%- endif %}
    where stitched.exclusion_reason is null

),

-- The session cuts read only these columns: the windows below sort them alone, and the wide rows
-- join back by event id (sorting every column of every event, three windows over, took 21 of the
-- query's 72 s on a 14.5 M-event day; docs/performance.md).
session_keys as (

    select
        event_id,
        store_id,
        event_date,
        visitor_id,
        event_at,
        campaign_key,
        page_path is not null as is_page_load
    from counted

),

-- Two sorts of each visitor-day's events: the first finds where sessions start, the second, over
-- the same order, everything that depends on the starts. Windows partitioned by session would
-- sort the events again (two more sorts, a quarter of the query's time at 6 M events).
with_previous as (

    select
        *,
        lag(event_at) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
        ) as previous_event_at,
        {{ dbt.datediff(
            'lag(event_at) over (partition by store_id, event_date, visitor_id order by event_at, event_id)',
            'event_at',
            'millisecond',
        ) }} as milliseconds_since_previous,
        lag(campaign_key) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
        ) as previous_campaign_key,
        row_number() over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
        ) as visitor_event_number
    from session_keys

),

session_starts as (

    select
        *,
        case
            when previous_event_at is null then 1
            when milliseconds_since_previous > {{ var('session_timeout_minutes') }} * 60000 then 1
            when {{ var('session_split_on_campaign_change') }} and campaign_key <> previous_campaign_key then 1
            else 0
        end as is_session_start
    from with_previous

),

-- Each event's session is the last start at or before it.
session_marks as (

    select
        event_id,
        is_page_load,
        {{ last_non_null('case when is_session_start = 1 then event_id end') }} over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_first_event_id,
        visitor_event_number + 1 - max(case when is_session_start = 1 then visitor_event_number end) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as event_number,
        min(case when is_page_load then visitor_event_number end) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
            rows between 1 following and unbounded following
        ) as next_page_load_number,
        min(case when is_page_load then event_at end) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
            rows between 1 following and unbounded following
        ) as next_page_load_at,
        min(case when is_session_start = 1 then visitor_event_number end) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
            rows between 1 following and unbounded following
        ) as next_session_start_number
    from session_starts

),

-- A page view is an event that loads a page; its time on page runs to the next page load, when
-- that comes before the next session start.
with_session_key as (

    select
        event_id,
        session_first_event_id,
        event_number,
        is_page_load as is_page_view,
        case
            when
                is_page_load
                and (next_session_start_number is null or next_page_load_number < next_session_start_number)
                then next_page_load_at
        end as next_page_view_at
    from session_marks

),

final as (

    select
        counted.event_id,
        counted.store_id,
        counted.event_date,
        counted.event_at,
        counted.event_type,
        -- stable across rebuilds: the same events give the same id
        {{ dbt.hash(dbt.concat([
            'counted.store_id', "'|'",
            'counted.visitor_id', "'|'",
            'with_session_key.session_first_event_id',
        ])) }} as session_id,
        with_session_key.event_number,
        with_session_key.is_page_view,
        {{ seconds_between('counted.event_at', 'with_session_key.next_page_view_at') }} as seconds_on_page,
        counted.visitor_id,
        counted.anonymous_id,
        counted.stitched_customer_id as customer_id,
        counted.page_path,
        counted.referrer,
        counted.utm_source,
        counted.utm_medium,
        counted.utm_campaign,
        counted.search_query,
        counted.results_count,
        counted.product_id,
        counted.list_position,
        counted.recommendation_placement,
        counted.cart_id,
        counted.order_id,
        counted.value,
        counted.device_type,
        counted.platform,
        counted.country,
        counted.partition_landed_at
    from counted
    inner join with_session_key
        on counted.event_id = with_session_key.event_id

)

select * from final
