-- Each reading with its store-local date, whether the device judged it within its quality bounds
-- (flag `ok`: sensor stability counts these), and whether it is an anomaly: a good reading further
-- than `device_anomaly_band` from the mean of the same device's previous
-- `device_anomaly_window_readings` good readings, once it has at least `device_anomaly_min_readings`
-- of them (docs/sources.md). The value itself (health data) goes no further than this model.
--
-- Incremental by store and local date: a run rebuilds the days from the first day of the readings
-- landed since its last build, and reads the readings from as far back as the bands of the devices
-- reporting on those days reach (macros/sensor_readings_scope.sql).
{%- set scope = sensor_readings_scope() %}
{#- an incremental run reads as far back as the bands reach, and nothing when no day is rebuilt #}
{%- set read = none if not scope else ('measured_at >= ' ~ scope.read_from if scope.first else 'false') %}
with readings as (

    {{ with_local_date(ref('stg_devices__sensor_readings'), 'measured_at', 'reading_date', where=read) | indent(4) }}

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
    ) as is_anomaly,
    readings.landed_at
from readings
left join banded
    on readings.reading_id = banded.reading_id
{%- if scope and scope.first %}
where readings.reading_date >= cast('{{ scope.first }}' as date)
{%- endif %}
