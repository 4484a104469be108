-- The device marts add up to their staging rows: every reading, scheduled dose, activation,
-- adverse event and registered unit is counted exactly once. Returns a row per measure that differs.
with measures as (

    select
        'readings' as measure,
        (select sum(readings) from {{ ref('device_daily') }}) as in_mart,
        (select count(*) from {{ ref('stg_devices__sensor_readings') }}) as in_staging
    union all
    select
        'scheduled deliveries' as measure,
        (select sum(scheduled_deliveries) from {{ ref('device_daily') }}) as in_mart,
        (select count(*) from {{ ref('stg_devices__dosage_deliveries') }}) as in_staging
    union all
    select
        'activations' as measure,
        (select sum(activations) from {{ ref('device_daily') }}) as in_mart,
        (select count(activated_at) from {{ ref('stg_devices__activations') }}) as in_staging
    union all
    select
        'adverse events by day' as measure,
        (select sum(adverse_events) from {{ ref('adverse_events_daily') }}) as in_mart,
        (select count(*) from {{ ref('stg_devices__adverse_events') }}) as in_staging
    union all
    select
        'adverse events by lot' as measure,
        (select sum(adverse_events) from {{ ref('batch_performance') }}) as in_mart,
        (select count(*) from {{ ref('stg_devices__adverse_events') }}) as in_staging
    union all
    select
        'units' as measure,
        (select sum(units_sold) from {{ ref('batch_performance') }}) as in_mart,
        (select count(*) from {{ ref('stg_devices__activations') }}) as in_staging

)

select *
from measures
where coalesce(in_mart, 0) <> in_staging
