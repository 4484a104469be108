-- Store x local date: analytics-consent decisions and the clickstream events consent excluded.
--   accept rate   = grants / (grants + denials) of the day
--   deny rate     = denials / (grants + denials) of the day
--   withdraw rate = withdrawals of the day / grants recorded in the store up to and including
--                   the day (every grant of the built history, withdrawn since or not)
-- Events: everything the clickstream sent except bots (which never count, consent or not);
-- excluded are those with a GPC or DNT signal, and those without analytics consent in force.
with decisions as (

    {{ with_local_date(ref('int_analytics_consent_periods'), 'valid_from', 'decision_date') | indent(4) }}

),

events as (

    select * from {{ ref('int_events_classified') }}

),

decisions_daily as (

    select
        store_id,
        decision_date as date,
        count(case when action = 'granted' then 1 end) as granted_decisions,
        count(case when action = 'denied' then 1 end) as denied_decisions,
        count(case when action = 'withdrawn' then 1 end) as withdrawn_decisions
    from decisions
    group by
        store_id,
        decision_date

),

events_daily as (

    select
        store_id,
        event_date as date,
        count(*) as human_events,
        count(case when exclusion_reason = 'privacy_signal' then 1 end) as privacy_signal_events,
        count(case when exclusion_reason = 'no_analytics_consent' then 1 end) as no_analytics_consent_events
    from events
    where exclusion_reason is null or exclusion_reason not in ('bot_user_agent', 'bot_behaviour')
    group by
        store_id,
        event_date

),

joined as (

    select
        coalesce(decisions_daily.store_id, events_daily.store_id) as store_id,
        coalesce(decisions_daily.date, events_daily.date) as date,
        coalesce(decisions_daily.granted_decisions, 0) as granted_decisions,
        coalesce(decisions_daily.denied_decisions, 0) as denied_decisions,
        coalesce(decisions_daily.withdrawn_decisions, 0) as withdrawn_decisions,
        coalesce(events_daily.human_events, 0) as human_events,
        coalesce(events_daily.privacy_signal_events, 0) as privacy_signal_events,
        coalesce(events_daily.no_analytics_consent_events, 0) as no_analytics_consent_events
    from decisions_daily
    full outer join events_daily
        on
            decisions_daily.store_id = events_daily.store_id
            and decisions_daily.date = events_daily.date

),

final as (

    select
        *,
        cast(sum(granted_decisions) over (
            partition by store_id
            order by date
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as granted_to_date
    from joined

)

select
    store_id,
    date,
    granted_decisions,
    denied_decisions,
    withdrawn_decisions,
    granted_decisions + denied_decisions + withdrawn_decisions as decisions,
    granted_to_date,
    {{ ratio('granted_decisions', 'granted_decisions + denied_decisions') }} as accept_rate,
    {{ ratio('denied_decisions', 'granted_decisions + denied_decisions') }} as deny_rate,
    {{ ratio('withdrawn_decisions', 'granted_to_date') }} as withdraw_rate,
    human_events,
    privacy_signal_events,
    no_analytics_consent_events,
    privacy_signal_events + no_analytics_consent_events as consent_excluded_events,
    {{ ratio('privacy_signal_events + no_analytics_consent_events', 'human_events') }} as consent_excluded_rate
from final
