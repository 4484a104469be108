-- Every clickstream event with the one reason it may not count (NULL when it counts), in order
-- of precedence: a bot (user agent or event rate), a GPC or DNT signal, no analytics consent in
-- force at the event's time, a reloaded purchase confirmation. Nothing is dropped here, so the
-- data-quality scorecard can count each exclusion.
--
-- Incremental by store and local date, so a daily run pseudonymises and classifies the days it
-- rebuilds, not the whole history (macros/classified_partitions.sql says which). Those days are
-- classified from the events of a scope around them: the rules look past a day's edges (a burst
-- of activity can run over midnight, a reload repeats a purchase days later), so the scope adds a
-- day either side, and purchases of the same orders outside it come from the table itself.
{%- set scope = classified_scope() %}
with events as {{ inlined() }} (

    select * from {{ ref('stg_storefront__events') }}
    {%- if scope %}
    where {{ in_classified_scope('event_at', scope) }}
    {%- endif %}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

consent_periods as (

    select * from {{ ref('int_analytics_consent_periods') }}

),

localized as {{ inlined() }} (

    select
        events.*,
        {{ local_date('events.event_at', 'stores.time_zone') }} as event_date
    from events
    inner join stores
        on events.store_id = stores.store_id

),

-- What the rules below read of each event, computed once: each reading of `localized` expands the
-- staging view again, with its first-copy aggregate over every event id ever landed and a keyed
-- hash of every device id. Only the classified rows read `localized` a second time, and they take
-- the device's pseudonym from here, joined on the event id, rather than hash it again.
rule_inputs as {{ computed_once() }} (

    select
        store_id,
        anonymous_id,
        event_id,
        event_at,
        event_date,
        event_type,
        order_id
    from localized

),

-- Windows of activity: each device's events in time order, cut wherever it stayed quiet for more
-- than bot_burst_gap_minutes. A rate over a whole day would let two fast bursts hours apart
-- average out below the threshold.
device_events as (

    select
        store_id,
        anonymous_id,
        event_id,
        event_at,
        event_date,
        lag(event_at) over (
            partition by store_id, anonymous_id
            order by event_at, event_id
        ) as previous_event_at
    from rule_inputs

),

burst_starts as (

    select
        *,
        case
            when
                previous_event_at is null
                or {{ dbt.datediff('previous_event_at', 'event_at', 'second') }}
                > {{ var('bot_burst_gap_minutes') }} * 60
                then 1
            else 0
        end as is_burst_start
    from device_events

),

bursts as (

    select
        store_id,
        anonymous_id,
        event_at,
        event_date,
        sum(is_burst_start) over (
            partition by store_id, anonymous_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as burst_number
    from burst_starts

),

-- A burst is a bot's when it holds many events, faster than a person clicks (scrapers run at about
-- one a second; people stay below one every few seconds on average).
bot_bursts as (

    select
        store_id,
        anonymous_id,
        burst_number
    from bursts
    group by
        store_id,
        anonymous_id,
        burst_number
    having
        count(*) >= {{ var('bot_min_events') }}
        and count(*) * 60
        > {{ var('bot_max_events_per_minute') }} * {{ dbt.datediff('min(event_at)', 'max(event_at)', 'second') }}

),

-- A device is a bot on every local day one of its bot bursts touches.
behavioural_bots as (

    select distinct
        bursts.store_id,
        bursts.anonymous_id,
        bursts.event_date
    from bursts
    inner join bot_bursts
        on
            bursts.store_id = bot_bursts.store_id
            and bursts.anonymous_id = bot_bursts.anonymous_id
            and bursts.burst_number = bot_bursts.burst_number

),

with_consent as (

    select
        {{ star_except('localized', ['anonymous_id']) }},
        rule_inputs.anonymous_id,
        consent_periods.is_granted as has_analytics_consent,
        consent_periods.landed_at as consent_landed_at
    from localized
    inner join rule_inputs
        on localized.event_id = rule_inputs.event_id
    left join consent_periods
        on
            localized.store_id = consent_periods.store_id
            and rule_inputs.anonymous_id = consent_periods.anonymous_id
            and localized.event_at >= consent_periods.valid_from
            and (consent_periods.valid_to is null or localized.event_at < consent_periods.valid_to)

),

-- A reload of the order confirmation page sends the purchase again under a new event id.
purchases as (

    select
        event_id,
        store_id,
        order_id,
        event_at
    from rule_inputs
    where event_type = 'purchase' and order_id is not null
    {%- if scope %}
    union all
    select
        event_id,
        store_id,
        order_id,
        event_at
    from {{ this }}
    where event_type = 'purchase' and order_id is not null and not {{ in_classified_scope('event_at', scope) }}
    {%- endif %}

),

purchase_copies as (

    select
        event_id,
        row_number() over (
            partition by store_id, order_id
            order by event_at, event_id
        ) as copy_number
    from purchases

),

classified as (

    select
        with_consent.*,
        case
            when with_consent.bot_family is not null then 'bot_user_agent'
            when behavioural_bots.anonymous_id is not null then 'bot_behaviour'
            when with_consent.has_gpc_signal or with_consent.has_dnt_signal then 'privacy_signal'
            when not coalesce(with_consent.has_analytics_consent, false) then 'no_analytics_consent'
            when purchase_copies.copy_number > 1 then 'duplicate_purchase'
        end as exclusion_reason
    from with_consent
    left join behavioural_bots
        on
            with_consent.store_id = behavioural_bots.store_id
            and with_consent.anonymous_id = behavioural_bots.anonymous_id
            and with_consent.event_date = behavioural_bots.event_date
    left join purchase_copies
        on with_consent.event_id = purchase_copies.event_id

)

-- the staging columns pass through unchanged
select classified.* from classified  -- noqa: AM04
{%- if scope %}
inner join ({{ classified_scope_partitions(scope) | indent(4) }}) as rebuilt
    on
        classified.store_id = rebuilt.store_id
        and classified.event_date = rebuilt.event_date
{%- endif %}
