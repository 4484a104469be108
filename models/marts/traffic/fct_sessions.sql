-- Incremental by store and local date, like the session summaries it publishes. A partition is
-- rebuilt when its sessions' inputs landed after the last build, or the customer address version
-- locating one of them did (a late address, a move that ends the version before it).
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

located as (

    select * from {{ ref('int_sessions_located') }}

),

stamped as (

    -- the columns of the contract in _traffic__models.yml, the landing time taken with the address's
    select
        sessions.session_id,
        sessions.store_id,
        sessions.session_date,
        sessions.visitor_id,
        sessions.customer_id,
        sessions.started_at,
        sessions.ended_at,
        sessions.duration_seconds,
        sessions.events,
        sessions.page_views,
        sessions.is_bounce,
        sessions.landing_page_path,
        sessions.source,
        sessions.medium,
        sessions.campaign,
        sessions.channel_group,
        sessions.device_type,
        sessions.platform,
        sessions.country,
        sessions.searches,
        sessions.product_views,
        sessions.add_to_carts,
        sessions.checkouts_started,
        sessions.purchase_events,
        sessions.is_converted,
        sessions.orders,
        sessions.revenue,
        sessions.revenue_usd,
        greatest(
            sessions.partition_landed_at,
            coalesce(located.address_landed_at, sessions.partition_landed_at)
        ) as partition_landed_at,
        located.region,
        located.city
    from sessions
    left join located
        on sessions.session_id = located.session_id

){% if is_incremental() %},

rebuilt as (

    {{ rebuilt_partitions('stamped', 'session_date') | indent(4) }}

){% endif %}

select stamped.*
from stamped
{%- if is_incremental() %}
inner join rebuilt
    on
        stamped.store_id = rebuilt.store_id
        and stamped.session_date = rebuilt.session_date
{%- endif %}
