-- Data quality per source x store x date, two kinds of row (README "Data quality and consent"):
--  * landing counts, from the manifest: per source x store the rows name x UTC date the extracts
--    landed (rows naming no readable store count under 'unattributed'); received = landed +
--    quarantined + duplicates holds for every row.
--  * per-store findings on the store-local date of the data: bot and consent exclusions
--    (source events), clickstream purchases vs backend orders (source events), stock counts
--    that disagree with the ledger (source stock_snapshots).
with extracts as (

    select * from {{ ref('stg_landing__extracts') }}

),

events as (

    select * from {{ ref('int_events_classified') }}

),

purchases as (

    select * from {{ ref('int_purchases_reconciled') }}

),

stock_positions as (

    select * from {{ ref('int_stock_positions_reconciled') }}

),

landing as (

    select
        source,
        store_id,
        cast(landed_at as date) as date,
        count(distinct extract_id) as extracts,
        cast(sum(rows_received) as {{ dbt.type_bigint() }}) as rows_received,
        cast(sum(rows_landed) as {{ dbt.type_bigint() }}) as rows_landed,
        cast(sum(rows_quarantined) as {{ dbt.type_bigint() }}) as rows_quarantined,
        {%- for code in landing_reason_codes() %}
            cast(sum(quarantined_{{ code }}) as {{ dbt.type_bigint() }}) as quarantined_{{ code }},
        {%- endfor %}
        cast(sum(duplicates_dropped) as {{ dbt.type_bigint() }}) as duplicates_dropped,
        cast(sum(late_rows) as {{ dbt.type_bigint() }}) as late_rows,
        cast(sum(rows_erased_subject) as {{ dbt.type_bigint() }}) as rows_erased_subject,
        -- Quarantined rows landed again by a replay: received again by the replay extract, which
        -- counts them a second time in rows_received.
        cast(sum(case when is_replay then rows_received else 0 end) as {{ dbt.type_bigint() }}) as rows_replayed,
        cast(sum(case when is_replay then rows_landed else 0 end) as {{ dbt.type_bigint() }}) as rows_landed_by_replay,
        -- The batch form of consumer lag: the longest an extract of the day waited in the inbox.
        -- Whole seconds; never negative, since the inbox's clock may run ahead of the landing's.
        cast(max(
            case
                when arrived_at > landed_at then 0
                else {{ dbt.datediff('arrived_at', 'landed_at', 'second') }}
            end
        ) as {{ dbt.type_bigint() }}) as max_landing_delay_seconds
    from extracts
    group by
        source,
        store_id,
        cast(landed_at as date)

),

clickstream as (

    select
        'events' as source,
        store_id,
        event_date as date,
        count(case when exclusion_reason = 'bot_user_agent' then 1 end) as bot_user_agent_events,
        count(case when exclusion_reason = 'bot_behaviour' then 1 end) as bot_behaviour_events,
        count(case when exclusion_reason = 'privacy_signal' then 1 end) as privacy_signal_events,
        count(case when exclusion_reason = 'no_analytics_consent' then 1 end) as no_analytics_consent_events,
        count(case when exclusion_reason = 'duplicate_purchase' then 1 end) as duplicate_purchase_events
    from events
    group by
        store_id,
        event_date

),

purchase_findings as (

    select
        'events' as source,
        store_id,
        date,
        count(case when finding = 'purchase_event_without_order' then 1 end) as purchase_events_without_order,
        count(case when finding = 'order_without_purchase_event' then 1 end) as orders_without_purchase_event
    from purchases
    group by
        store_id,
        date

),

stock_findings as (

    select
        'stock_snapshots' as source,
        store_id,
        date,
        count(case when has_count_mismatch then 1 end) as stock_count_mismatches
    from stock_positions
    group by
        store_id,
        date

),

keys as (

    select
        source,
        store_id,
        date
    from landing
    union
    select
        source,
        store_id,
        date
    from clickstream
    union
    select
        source,
        store_id,
        date
    from purchase_findings
    union
    select
        source,
        store_id,
        date
    from stock_findings

),

final as (

    select
        keys.source,
        keys.store_id,
        keys.date,
        coalesce(landing.extracts, 0) as extracts,
        coalesce(landing.rows_received, 0) as rows_received,
        coalesce(landing.rows_landed, 0) as rows_landed,
        coalesce(landing.rows_quarantined, 0) as rows_quarantined,
        {%- for code in landing_reason_codes() %}
            coalesce(landing.quarantined_{{ code }}, 0) as quarantined_{{ code }},
        {%- endfor %}
        coalesce(landing.duplicates_dropped, 0) as duplicates_dropped,
        coalesce(landing.late_rows, 0) as late_rows,
        coalesce(landing.rows_erased_subject, 0) as rows_erased_subject,
        coalesce(landing.rows_replayed, 0) as rows_replayed,
        coalesce(landing.rows_landed_by_replay, 0) as rows_landed_by_replay,
        landing.max_landing_delay_seconds,
        coalesce(clickstream.bot_user_agent_events, 0) as bot_user_agent_events,
        coalesce(clickstream.bot_behaviour_events, 0) as bot_behaviour_events,
        coalesce(clickstream.privacy_signal_events, 0) as privacy_signal_events,
        coalesce(clickstream.no_analytics_consent_events, 0) as no_analytics_consent_events,
        coalesce(clickstream.duplicate_purchase_events, 0) as duplicate_purchase_events,
        coalesce(purchase_findings.purchase_events_without_order, 0) as purchase_events_without_order,
        coalesce(purchase_findings.orders_without_purchase_event, 0) as orders_without_purchase_event,
        coalesce(stock_findings.stock_count_mismatches, 0) as stock_count_mismatches
    from keys
    left join landing
        on
            keys.source = landing.source
            and keys.store_id = landing.store_id
            and keys.date = landing.date
    left join clickstream
        on
            keys.source = clickstream.source
            and keys.store_id = clickstream.store_id
            and keys.date = clickstream.date
    left join purchase_findings
        on
            keys.source = purchase_findings.source
            and keys.store_id = purchase_findings.store_id
            and keys.date = purchase_findings.date
    left join stock_findings
        on
            keys.source = stock_findings.source
            and keys.store_id = stock_findings.store_id
            and keys.date = stock_findings.date

)

select
    *,
    {{ ratio('rows_quarantined', 'rows_received') }} as quarantine_rate,
    {{ ratio('duplicates_dropped', 'rows_received') }} as duplicate_rate,
    {{ ratio('late_rows', 'rows_landed') }} as late_rate
from final
