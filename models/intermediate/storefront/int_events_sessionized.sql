-- Incremental by store and local date: a session never crosses the store's local midnight, so a
-- rebuilt partition re-cuts its sessions whole. `partition_landed_at` is the latest landing time of
-- any input of the partition (excluded events included), so downstream models see the change too.
with events as (

    select * from {{ ref('int_events_classified') }}

),

devices as (

    select * from {{ ref('int_devices_identified') }}

),

stitched as (

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

partitions as (

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

counted as (

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
    from counted

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
    where page_path is not null

),

final as (

    select
        with_session_key.event_id,
        with_session_key.store_id,
        with_session_key.event_date,
        with_session_key.event_at,
        with_session_key.event_type,
        -- stable across rebuilds: the same events give the same id
        {{ dbt.hash(dbt.concat([
            'with_session_key.store_id', "'|'",
            'with_session_key.visitor_id', "'|'",
            'with_session_key.session_first_event_id',
        ])) }} as session_id,
        with_session_key.event_number,
        page_views.event_id is not null as is_page_view,
        {{ seconds_between('with_session_key.event_at', 'page_views.next_page_view_at') }} as seconds_on_page,
        with_session_key.visitor_id,
        with_session_key.anonymous_id,
        with_session_key.stitched_customer_id as customer_id,
        with_session_key.page_path,
        with_session_key.referrer,
        with_session_key.utm_source,
        with_session_key.utm_medium,
        with_session_key.utm_campaign,
        with_session_key.search_query,
        with_session_key.results_count,
        with_session_key.product_id,
        with_session_key.list_position,
        with_session_key.recommendation_placement,
        with_session_key.cart_id,
        with_session_key.order_id,
        with_session_key.value,
        with_session_key.device_type,
        with_session_key.platform,
        with_session_key.country,
        with_session_key.partition_landed_at
    from with_session_key
    left join page_views
        on with_session_key.event_id = page_views.event_id

)

select * from final
