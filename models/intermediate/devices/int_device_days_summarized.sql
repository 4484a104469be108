-- One row per device and store-local day on which it reported (a sensor reading, a scheduled dose
-- or a patch applied) or was activated, with the firmware it ran at the end of the day and the
-- day's inputs of the device KPIs (docs/sources.md):
--   prescribed day: an active day within the prescription (activation day + prescribed_wear_days);
--   valid patch: a patch applied that day and worn at least `device_valid_wear_hours`;
--   successful dose: delivered, within `dosage_tolerance_share` of the dose scheduled.
--
-- Incremental by store and local date: a run rebuilds every day from the first day that what landed
-- since its last build changes (macros/device_days_scope.sql), from those days' readings, doses and
-- patches and every device's activation and firmware updates.
{%- set scope = device_days_scope() %}
{#- the first rebuilt day; NULL when an incremental run rebuilds none, so every day is filtered out #}
{%- set rebuilt_since = none %}
{%- if is_incremental() and scope is not none %}
    {%- set rebuilt_since = "cast('" ~ scope.day ~ "' as date)" if scope.day else "cast(null as date)" %}
{%- endif %}
{#- a local day starts up to a day before or after its UTC date #}
{%- set read_from = none if rebuilt_since is none else dbt.dateadd('day', -1, rebuilt_since) %}
with devices as (

    {{ with_local_date(ref('stg_devices__activations'), 'activated_at', 'activation_date') | indent(4) }}

),

readings as (

    select * from {{ ref('int_sensor_readings_evaluated') }}
    {%- if rebuilt_since %}
    where reading_date >= {{ rebuilt_since }}
    {%- endif %}

),

doses as (

    {{ with_local_date(
        ref('stg_devices__dosage_deliveries'), 'scheduled_at', 'dose_date', where=none if read_from is none else 'scheduled_at >= ' ~ read_from
    ) | indent(4) }}

),

patches as (

    {{ with_local_date(
        ref('stg_devices__patch_applications'), 'applied_at', 'applied_date', where=none if read_from is none else 'applied_at >= ' ~ read_from
    ) | indent(4) }}

),

updates as (

    {{ with_local_date(ref('stg_devices__firmware_updates'), 'completed_at', 'update_date') | indent(4) }}

),

reading_days as (

    select
        device_id,
        reading_date as date,
        count(*) as readings,
        count(case when is_within_bounds then 1 end) as readings_within_bounds,
        count(case when is_anomaly then 1 end) as anomalies
    from readings
    group by
        device_id,
        reading_date

),

dose_days as (

    select
        device_id,
        dose_date as date,
        count(*) as scheduled_deliveries,
        count(
            case
                when
                    delivered_at is not null
                    and abs(delivered_dose_mg - scheduled_dose_mg)
                    <= {{ var('dosage_tolerance_share') }} * scheduled_dose_mg
                    then 1
            end
        ) as successful_deliveries
    from doses
    group by
        device_id,
        dose_date

),

patch_days as (

    select
        device_id,
        applied_date as date,
        count(
            case
                when
                    removed_at is not null
                    and {{ seconds_between('applied_at', 'removed_at') }}
                    >= {{ var('device_valid_wear_hours') }} * 3600
                    then 1
            end
        ) > 0 as has_valid_patch
    from patches
    group by
        device_id,
        applied_date

),

activity as (

    select
        device_id,
        date
    from reading_days
    union
    select
        device_id,
        date
    from dose_days
    union
    select
        device_id,
        date
    from patch_days
    union
    select
        device_id,
        activation_date as date
    from devices
    where activation_date is not null

),

latest_updates as (

    select
        activity.device_id,
        activity.date,
        updates.to_version,
        row_number() over (
            partition by activity.device_id, activity.date
            order by updates.completed_at desc, updates.update_id desc
        ) as update_rank
    from activity
    inner join updates
        on
            activity.device_id = updates.device_id
            and activity.date >= updates.update_date
            and updates.status = 'succeeded'

),

summarized as (

    select
        activity.device_id,
        devices.store_id,
        activity.date,
        devices.product_id,
        devices.lot_number,
        coalesce(latest_updates.to_version, devices.firmware_version) as firmware_version,
        coalesce(reading_days.readings, 0) as readings,
        coalesce(reading_days.readings_within_bounds, 0) as readings_within_bounds,
        coalesce(reading_days.anomalies, 0) as anomalies,
        coalesce(dose_days.scheduled_deliveries, 0) as scheduled_deliveries,
        coalesce(dose_days.successful_deliveries, 0) as successful_deliveries,
        coalesce(patch_days.has_valid_patch, false) as has_valid_patch,
        reading_days.device_id is not null
        or dose_days.device_id is not null
        or patch_days.device_id is not null as is_active,
        coalesce(activity.date = devices.activation_date, false) as is_activation_day,
        {{ dbt.datediff('devices.activation_date', 'activity.date', 'day') }} as days_since_activation,  -- noqa: LT05
        devices.prescribed_wear_days
    from activity
    inner join devices
        on activity.device_id = devices.device_id
    left join latest_updates
        on
            activity.device_id = latest_updates.device_id
            and activity.date = latest_updates.date
            and latest_updates.update_rank = 1
    left join reading_days
        on activity.device_id = reading_days.device_id and activity.date = reading_days.date
    left join dose_days
        on activity.device_id = dose_days.device_id and activity.date = dose_days.date
    left join patch_days
        on activity.device_id = patch_days.device_id and activity.date = patch_days.date

)

select
    device_id,
    store_id,
    date,
    product_id,
    lot_number,
    firmware_version,
    is_active,
    is_activation_day,
    coalesce(is_active and days_since_activation >= 0 and days_since_activation < prescribed_wear_days, false)
        as is_prescribed_day,
    has_valid_patch,
    readings,
    readings_within_bounds,
    anomalies,
    scheduled_deliveries,
    successful_deliveries,
    {%- set landed_through = timestamp_literal(scope.landed_through) if scope and scope.landed_through
        else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' %}
    {{ landed_through }} as inputs_landed_at
from summarized
{%- if rebuilt_since %}
where date >= {{ rebuilt_since }}
{%- endif %}
