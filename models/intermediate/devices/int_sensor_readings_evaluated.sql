-- Each reading with its store-local date, whether the device judged it within its quality bounds
-- (flag `ok`: sensor stability counts these), and whether it is an anomaly: a good reading further
-- than `device_anomaly_band` from the mean of the same device's previous
-- `device_anomaly_window_readings` good readings, once it has at least `device_anomaly_min_readings`
-- of them (docs/sources.md). The value itself (health data) goes no further than this model.
with readings as (

    {{ with_local_date(ref('stg_devices__sensor_readings'), 'measured_at', 'reading_date') | indent(4) }}

),

banded as (

    select
        reading_id,
        avg(value) over (
            partition by device_id
            order by measured_at, reading_id
            rows between {{ var('device_anomaly_window_readings') }} preceding and 1 preceding
        ) as band_mean,
        count(value) over (
            partition by device_id
            order by measured_at, reading_id
            rows between {{ var('device_anomaly_window_readings') }} preceding and 1 preceding
        ) as band_readings
    from readings
    where quality_flag = 'ok'

)

select
    readings.reading_id,
    readings.device_id,
    readings.store_id,
    readings.measured_at,
    readings.reading_date,
    readings.quality_flag = 'ok' as is_within_bounds,
    coalesce(
        banded.band_readings >= {{ var('device_anomaly_min_readings') }}
        and abs(readings.value - banded.band_mean) > {{ var('device_anomaly_band') }},
        false
    ) as is_anomaly
from readings
left join banded
    on readings.reading_id = banded.reading_id
