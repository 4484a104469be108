-- One row per session: its entry (landing page, source, medium, channel), engagement and
-- conversion. Incremental like the events it summarises; a partition is also rebuilt when an
-- order or payment one of its sessions names lands later, so conversions stay current.
with events as {{ inlined() }} (

    select * from {{ ref('int_events_sessionized') }}

),

conversions as (

    select * from {{ ref('int_session_conversions') }}

),

channel_groupings as (

    select * from {{ ref('channel_groupings') }}

),

event_partitions as (

    {{ partition_stamps('events', 'event_date') | indent(4) }}

),

conversion_partitions as (

    select
        store_id,
        session_date,
        max(source_landed_at) as partition_landed_at
    from conversions
    group by
        store_id,
        session_date

),

partitions as {{ inlined() }} (

    select
        event_partitions.store_id,
        event_partitions.event_date as session_date,
        greatest(event_partitions.partition_landed_at, conversion_partitions.partition_landed_at)
            as partition_landed_at
    from event_partitions
    left join conversion_partitions
        on
            event_partitions.store_id = conversion_partitions.store_id
            and event_partitions.event_date = conversion_partitions.session_date

),

{% if is_incremental() %}
rebuilt as (

    {{ rebuilt_partitions('partitions', 'session_date') | indent(4) }}

),
{% endif %}

session_events as {{ inlined() }} (

    select
        events.*,
        partitions.partition_landed_at as session_partition_landed_at
    from events
    inner join partitions
        on
            events.store_id = partitions.store_id
            and events.event_date = partitions.session_date
    {%- if is_incremental() %}
    inner join rebuilt
        on
            events.store_id = rebuilt.store_id
            and events.event_date = rebuilt.session_date
    {%- endif %}

),

engagement as (

    select
        session_id,
        store_id,
        event_date as session_date,
        visitor_id,
        max(customer_id) as customer_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events,
        count(case when is_page_view then 1 end) as page_views,
        count(case when event_type = 'search' then 1 end) as searches,
        count(case when event_type = 'product_view' then 1 end) as product_views,
        count(case when event_type = 'add_to_cart' then 1 end) as add_to_carts,
        count(case when event_type = 'checkout_started' then 1 end) as checkouts_started,
        count(case when event_type = 'purchase' then 1 end) as purchase_events,
        max(session_partition_landed_at) as partition_landed_at
    from session_events
    group by
        session_id,
        store_id,
        event_date,
        visitor_id

),

entries as (

    select
        session_id,
        page_path as landing_page_path,
        utm_campaign,
        utm_source,
        utm_medium,
        regexp_extract(referrer, '^[a-z]+://([^/:]+)', 1) as referrer_host,
        device_type,
        platform,
        country
    from session_events
    where event_number = 1

),

-- Campaign tags win; else the referrer's site (search engines as organic); else direct.
sourced as (

    select
        session_id,
        landing_page_path,
        utm_campaign as campaign,
        device_type,
        platform,
        country,
        case
            when utm_source is not null then utm_source
            when referrer_host is not null then regexp_extract(referrer_host, '([a-z0-9-]+)\.[a-z]+$', 1)
            else '(direct)'
        end as source,
        case
            when utm_source is not null then coalesce(utm_medium, '(not set)')
            when
                {{ regex_matches('referrer_host', "'(^|\\.)(google|bing|yahoo|duckduckgo|baidu|yandex)\\.'") }}
                then 'organic'
            when referrer_host is not null then 'referral'
            else '(none)'
        end as medium
    from entries

),

-- The channel depends on source and medium alone, and a store has few pairs of them: matching
-- the rules' regexes per pair, not per session, is a join of dozens of rows instead of millions.
source_mediums as (

    select distinct
        source,
        medium
    from sourced

),

channel_matches as (

    select
        source_mediums.source,
        source_mediums.medium,
        channel_groupings.channel_group,
        row_number() over (
            partition by source_mediums.source, source_mediums.medium
            order by channel_groupings.priority
        ) as match_rank
    from source_mediums
    inner join channel_groupings
        on
            {{ regex_matches('source_mediums.source', 'channel_groupings.source_pattern') }}
            and {{ regex_matches('source_mediums.medium', 'channel_groupings.medium_pattern') }}

),

conversions_per_session as (

    select
        session_id,
        count(case when is_captured then 1 end) as orders,
        sum(case when is_captured then gmv else 0 end) as revenue,
        sum(case when is_captured then gmv_usd else 0 end) as revenue_usd
    from conversions
    group by session_id

),

final as (

    select
        engagement.session_id,
        engagement.store_id,
        engagement.session_date,
        engagement.visitor_id,
        engagement.customer_id,
        engagement.started_at,
        engagement.ended_at,
        {{ seconds_between('engagement.started_at', 'engagement.ended_at') }} as duration_seconds,
        engagement.events,
        engagement.page_views,
        engagement.page_views = 1 as is_bounce,
        sourced.landing_page_path,
        sourced.source,
        sourced.medium,
        sourced.campaign,
        channel_matches.channel_group,
        sourced.device_type,
        sourced.platform,
        sourced.country,
        engagement.searches,
        engagement.product_views,
        engagement.add_to_carts,
        engagement.checkouts_started,
        engagement.purchase_events,
        coalesce(conversions_per_session.orders, 0) > 0 as is_converted,
        coalesce(conversions_per_session.orders, 0) as orders,
        coalesce(conversions_per_session.revenue, 0) as revenue,
        coalesce(conversions_per_session.revenue_usd, 0) as revenue_usd,
        engagement.partition_landed_at
    from engagement
    inner join sourced
        on engagement.session_id = sourced.session_id
    left join channel_matches
        on
            sourced.source = channel_matches.source
            and sourced.medium = channel_matches.medium
            and channel_matches.match_rank = 1
    left join conversions_per_session
        on engagement.session_id = conversions_per_session.session_id

)

select * from final
