-- Adverse events per store-local day of the report, product, batch/lot and severity, with the rate
-- per 1,000 devices of that product and lot active that day (docs/sources.md):
--   adverse events per 1,000 active devices = 1000 * adverse events / active devices
with events as (

    {{ with_local_date(ref('stg_devices__adverse_events'), 'reported_at', 'report_date') | indent(4) }}

),

device_days as (

    select * from {{ ref('int_device_days_summarized') }}

),

reported as (

    select
        store_id,
        report_date as date,
        product_id,
        lot_number,
        severity,
        count(*) as adverse_events
    from events
    group by
        store_id,
        report_date,
        product_id,
        lot_number,
        severity

),

active as (

    select
        store_id,
        date,
        product_id,
        lot_number,
        count(case when is_active then 1 end) as active_devices
    from device_days
    group by
        store_id,
        date,
        product_id,
        lot_number

)

select
    reported.store_id,
    reported.date,
    reported.product_id,
    reported.lot_number,
    reported.severity,
    reported.adverse_events,
    coalesce(active.active_devices, 0) as active_devices,
    1000 * {{ ratio('reported.adverse_events', 'active.active_devices') }} as adverse_events_per_1000_active_devices
from reported
left join active
    on
        reported.store_id = active.store_id
        and reported.date = active.date
        and reported.product_id = active.product_id
        and reported.lot_number = active.lot_number
-- open days only; severity is health data
{{ open_days_only('reported.date', 0, 'high') }}
