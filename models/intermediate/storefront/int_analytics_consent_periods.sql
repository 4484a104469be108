-- One row per analytics-consent decision of a device, valid until the device's next decision.
-- A device without any decision never had consent in force.
with consent_logs as (

    select * from {{ ref('stg_crm__consent_logs') }}

),

analytics_decisions as (

    select
        consent_event_id,
        store_id,
        anonymous_id,
        action,
        recorded_at,
        landed_at
    from consent_logs
    where purpose = 'analytics'

),

periods as (

    select
        consent_event_id,
        store_id,
        anonymous_id,
        action,
        action = 'granted' as is_granted,
        recorded_at as valid_from,
        lead(recorded_at) over (
            partition by store_id, anonymous_id
            order by recorded_at, consent_event_id
        ) as valid_to,
        landed_at
    from analytics_decisions

)

select * from periods
