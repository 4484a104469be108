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
        ) as previous_campaign_key
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

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by store_id, event_date, visitor_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as visitor_session_number
    from session_starts

),

with_session_key as (

    select
        *,
        first_value(event_id) over (
            partition by store_id, event_date, visitor_id, visitor_session_number
            order by event_at, event_id
            rows between unbounded preceding and unbounded following
        ) as session_first_event_id,
        row_number() over (
            partition by store_id, event_date, visitor_id, visitor_session_number
            order by event_at, event_id
        ) as event_number
    from numbered

),

-- A page view is an event that loads a page; its time on page runs to the session's next one.
page_views as (

    select
        event_id,
        lead(event_at) over (
            partition by store_id, event_date, visitor_id, visitor_session_number
            order by event_at, event_id
        ) as next_page_view_at
    from with_session_key
    where is_page_load

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
        page_views.event_id is not null as is_page_view,
        {{ seconds_between('counted.event_at', 'page_views.next_page_view_at') }} as seconds_on_page,
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
    left join page_views
        on counted.event_id = page_views.event_id

)

select * from final
