-- Medium-class fields leave staging only as keyed hashes: device and customer ids, the IP
-- (truncated first) and the user agent (classified against the bot patterns first).
with deduplicated as (

    -- immutable: the first received copy wins (read from the landed table, not a `source` CTE:
    -- see first_landed_copy)
    {{ first_landed_copy(raw_source('storefront', 'events'), 'event_id') | indent(4) }}

),

renamed as (

    select
        event_id,
        event_type,
        event_at,
        device_created_at,
        collector_received_at,
        store_id,
        tracker_session_id,
        {{ pseudonymize('anonymous_id') }} as anonymous_id,
        {{ pseudonymize('user_id') }} as customer_id,
        page_url,
        regexp_extract(page_url, '^[a-z]+://[^/]+(/[^?#]*)', 1) as page_path,
        referrer,
        lower(utm_source) as utm_source,
        lower(utm_medium) as utm_medium,
        lower(utm_campaign) as utm_campaign,
        search_query,
        results_count,
        product_id,
        list_position,
        recommendation_placement,
        cart_id,
        order_id,
        value,
        {{ bot_family('user_agent') }} as bot_family,
        {{ pseudonymize('user_agent') }} as user_agent_hash,
        {{ pseudonymize(truncate_ip('ip')) }} as ip_hash,
        locale,
        client_timezone,
        device_type,
        platform,
        country,
        coalesce(gpc, false) as has_gpc_signal,
        coalesce(dnt, false) as has_dnt_signal,
        batch_id,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
