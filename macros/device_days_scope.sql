{#- What an incremental run of int_device_days_summarized rebuilds: every day from `day` on (none
    when nothing is to be rebuilt), the first local day that anything landed since its last build
    changes, or the window's first rebuilt day if earlier; `landed_through` is the latest landing of
    the device inputs now, which the rebuilt rows keep as `inputs_landed_at` (a full build has no
    `day`). None in a dbt unit test, which has no `this`. Every copy landed counts, not only
    the copy staging keeps: a copy that changes nothing at most adds its day to the rebuild.
    - a reading reopens its day, and the days after it, whose anomaly bands it may enter (what
      int_sensor_readings_evaluated rebuilds);
    - a dose, a patch application or a firmware update reopens its day; a re-exported patch also
      the day of each earlier copy (the last copy wins, and may move it);
    - an activation (a re-export may change the store, prescription or firmware of every day of
      its device) reopens the device's first day: of any copy's activation, reading, dose or patch.
    A day with a row keeps `inputs_landed_at` of the run that built it, the mark of what it has
    read (the latest landing stamp of the table), so an input whose device has no day to show it
    (no activation yet) is not found again by every run after. -#}
{% macro device_days_scope() -%}
    {%- if not execute or this is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not is_incremental() -%}
        {%- set landed_through = run_query(
            "select cast((" ~ device_inputs_landed_through() ~ ") as " ~ dbt.type_string() ~ ")"
        ).columns[0].values()[0] -%}
        {{ return({'day': none, 'landed_through': landed_through}) }}
    {%- endif -%}
    {%- set since = run_query("select max(inputs_landed_at) from " ~ this).columns[0].values()[0] -%}
    {%- set landed = "true" if since is none
        else "_landed_at > " ~ timestamp_literal(since) -%}
    {%- set activations = raw_source('devices', 'device_activations') -%}
    {%- set doses = raw_source('devices', 'dosage_deliveries') -%}
    {%- set patches = raw_source('devices', 'patch_applications') -%}
    {%- set activated = "device_id in (select device_id from " ~ activations ~ " where " ~ landed ~ ")" -%}
    {%- set readings_landed = "true" if since is none
        else "landed_at > " ~ timestamp_literal(since) -%}
    {%- set first_changed -%}
        select min(day) from (
            select reading_date as day
            from {{ ref('int_sensor_readings_evaluated') }}
            where {{ readings_landed }}
            union all
            select day from ({{ with_local_date(doses, 'scheduled_at', 'day', where=landed) }}) as doses
            union all
            select day from ({{ with_local_date(
                patches, 'applied_at', 'day',
                where="application_id in (select application_id from " ~ patches ~ " where " ~ landed ~ ")"
            ) }}) as patches
            union all
            select day from ({{ with_local_date(
                raw_source('devices', 'firmware_updates'), 'completed_at', 'day', where=landed
            ) }}) as updates
            union all
            {# the first day of each device whose activation landed since: a device's days before
                its activation landed had no row #}
            select day from ({{ with_local_date(activations, 'activated_at', 'day', where=activated) }}) as activations
            union all
            select day from ({{ with_local_date(doses, 'scheduled_at', 'day', where=activated) }}) as activated_doses
            union all
            select day from ({{ with_local_date(patches, 'applied_at', 'day', where=activated) }}) as activated_patches
            union all
            select reading_date as day
            from {{ ref('int_sensor_readings_evaluated') }}
            where device_id in (
                select {{ pseudonymize('device_id') }} from {{ activations }} where {{ landed }}
            )
        ) as changed
    {%- endset -%}
    {%- set window_since = window_rebuilt_since() -%}
    {%- set first_day = "least((" ~ first_changed ~ "), " ~ window_since ~ ")" if window_since
        else "(" ~ first_changed ~ ")" -%}
    {%- set found = run_query(
        "select cast(cast(" ~ first_day ~ " as date) as " ~ dbt.type_string() ~ "), "
        ~ "cast((" ~ device_inputs_landed_through() ~ ") as " ~ dbt.type_string() ~ ")"
    ) -%}
    {{ return({'day': found.columns[0].values()[0], 'landed_through': found.columns[1].values()[0]}) }}
{%- endmacro %}

{#- SQL: the latest landing time of the device inputs int_device_days_summarized reads (NULL while
    none has landed). -#}
{% macro device_inputs_landed_through() -%}
    select max(landed_at) from (
        {%- for table in ['sensor_readings', 'dosage_deliveries', 'patch_applications', 'firmware_updates', 'device_activations'] %}
        select max(_landed_at) as landed_at from {{ raw_source('devices', table) }}
        {{- ' union all' if not loop.last }}
        {%- endfor %}
    ) as landed
{%- endmacro %}
