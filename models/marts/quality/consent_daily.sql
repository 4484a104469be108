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
        count(case when action = 'granted' then 1 end) as grants,
        count(case when action = 'denied' then 1 end) as denials,
        count(case when action = 'withdrawn' then 1 end) as withdrawals
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
        coalesce(decisions_daily.grants, 0) as grants,
        coalesce(decisions_daily.denials, 0) as denials,
        coalesce(decisions_daily.withdrawals, 0) as withdrawals,
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
        cast(sum(grants) over (
            partition by store_id
            order by date
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as grants_to_date
    from joined

)

select
    store_id,
    date,
    grants,
    denials,
    withdrawals,
    grants + denials + withdrawals as decisions,
    grants_to_date,
    {{ ratio('grants', 'grants + denials') }} as accept_rate,
    {{ ratio('denials', 'grants + denials') }} as deny_rate,
    {{ ratio('withdrawals', 'grants_to_date') }} as withdraw_rate,
    human_events,
    privacy_signal_events,
    no_analytics_consent_events,
    privacy_signal_events + no_analytics_consent_events as consent_excluded_events,
    {{ ratio('privacy_signal_events + no_analytics_consent_events', 'human_events') }} as consent_excluded_rate
from final
