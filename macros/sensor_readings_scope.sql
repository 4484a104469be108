{#- What an incremental run of int_sensor_readings_evaluated rebuilds and reads. A reading's anomaly
    band holds its device's previous good readings, however old, so a reading landed late changes the
    band of the device's later readings: the run rebuilds every day from the first local day of the
    readings landed since its last build (or from the window's first rebuilt day, if earlier), and
    reads the readings from the oldest of the previous `device_anomaly_window_readings` good readings,
    before that day, of each device reporting from then on (in the table from that day, or landed
    since), found in the table itself (its readings before that day are those staging still has).
    None on a full build, and in a dbt unit test, which has no `this`; `first` is none when nothing
    is to be rebuilt. -#}
{% macro sensor_readings_scope() -%}
    {%- set first = sensor_readings_first_day() -%}
    {%- if first is none or first.day is none -%}
        {{ return(none if first is none else {'first': none, 'read_from': none}) }}
    {%- endif -%}
    {#- a local day starts up to a day before or after its UTC date -#}
    {%- set first_instant = dbt.dateadd('day', -1, "cast('" ~ first.day ~ "' as date)") -%}
    {%- set band_start -%}
        select min(band_start)
        from (
            select {{ earliest_of_latest('built.measured_at', var('device_anomaly_window_readings')) }} as band_start
            from {{ this }} as built
            inner join (
                {#- the devices with readings from that day on: built before, or landed since (any
                    copy: a device too many only reads further back, and the first copies would
                    need every reading id landed) #}
                select device_id from {{ this }} where reading_date >= cast('{{ first.day }}' as date)
                {%- if first.landed_since %}
                union
                select {{ pseudonymize('device_id') }}
                from {{ raw_source('devices', 'sensor_readings') }}
                where _landed_at > {{ first.landed_since }}
                {%- endif %}
            ) as reporting
                on built.device_id = reporting.device_id
            where built.is_within_bounds and built.reading_date < cast('{{ first.day }}' as date)
            group by built.device_id
        ) as devices
    {%- endset -%}
    {%- set band_from = run_query(band_start).columns[0].values()[0] -%}
    {%- set read_from = first_instant if band_from is none
        else "least(" ~ timestamp_literal(band_from) ~ ", " ~ first_instant ~ ")" -%}
    {{ return({'first': first.day, 'read_from': read_from}) }}
{%- endmacro %}

{#- The first local day an incremental run of int_sensor_readings_evaluated rebuilds (`day`: none
    when none is), with `landed_since`, the SQL timestamp of its last build's latest reading (none
    when the table is empty). None where the run is not incremental. -#}
{% macro sensor_readings_first_day() -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = run_query("select max(landed_at) from " ~ this).columns[0].values()[0] -%}
    {%- set landed_since = none if since is none else timestamp_literal(since) -%}
    {%- set window_since = window_rebuilt_since() -%}
    {%- set first_new -%}
        select min(reading_date)
        from ({{ with_local_date(raw_source('devices', 'sensor_readings'), 'measured_at', 'reading_date') }}) as readings
        {%- if landed_since %}
        where _landed_at > {{ landed_since }}
        {%- endif %}
    {%- endset -%}
    {%- set first_day = "least((" ~ first_new ~ "), " ~ window_since ~ ")" if window_since else "(" ~ first_new ~ ")" -%}
    {%- set day = run_query(
        "select cast(cast(" ~ first_day ~ " as date) as " ~ dbt.type_string() ~ ")"
    ).columns[0].values()[0] -%}
    {{ return({'day': day, 'landed_since': landed_since}) }}
{%- endmacro %}
