-- Connected devices per store-local day, product and firmware (the firmware a device ran at the end
-- of the day): aggregates only, never a row per device or person (docs/sources.md).
--   adherence = valid patch days / prescribed days
--   dosage delivery success rate = successful deliveries / scheduled deliveries
--   sensor stability = readings within quality bounds / readings
with device_days as (

    select * from {{ ref('int_device_days_summarized') }}

),

daily as (

    select
        store_id,
        date,
        product_id,
        firmware_version,
        count(case when is_active then 1 end) as active_devices,
        count(case when is_activation_day then 1 end) as activations,
        count(case when is_prescribed_day then 1 end) as prescribed_days,
        count(case when is_prescribed_day and has_valid_patch then 1 end) as valid_patch_days,
        cast(sum(scheduled_deliveries) as {{ dbt.type_bigint() }}) as scheduled_deliveries,
        cast(sum(successful_deliveries) as {{ dbt.type_bigint() }}) as successful_deliveries,
        cast(sum(readings) as {{ dbt.type_bigint() }}) as readings,
        cast(sum(readings_within_bounds) as {{ dbt.type_bigint() }}) as readings_within_bounds,
        cast(sum(anomalies) as {{ dbt.type_bigint() }}) as anomalies
    from device_days
    group by
        store_id,
        date,
        product_id,
        firmware_version

)

select
    store_id,
    date,
    product_id,
    firmware_version,
    active_devices,
    activations,
    prescribed_days,
    valid_patch_days,
    {{ ratio('valid_patch_days', 'prescribed_days') }} as adherence,
    scheduled_deliveries,
    successful_deliveries,
    {{ ratio('successful_deliveries', 'scheduled_deliveries') }} as dosage_delivery_success_rate,
    readings,
    readings_within_bounds,
    {{ ratio('readings_within_bounds', 'readings') }} as sensor_stability,
    anomalies
from daily
-- open days only; the readings' window reads a day back
{{ open_days_only('date', 1, 'high') }}
