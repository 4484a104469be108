{#- The (store_id, date) partitions an incremental model rebuilds whole, from `rows` carrying
    `partition_landed_at`: each partition whose inputs landed after the model's last build (late
    events, consent decisions, logins that re-stitch a device, late payments all raise it), plus,
    when a run names its window, every date from the window's start less `lookback_days`
    (macros/window_rebuilt_since.sql). -#}
{% macro rebuilt_partitions(rows, date_column) -%}
    {%- set window_since = window_rebuilt_since() -%}
    select
        store_id,
        {{ date_column }}
    from {{ rows }}
    group by
        store_id,
        {{ date_column }}
    having
        max(partition_landed_at) > (
            select coalesce(max(partition_landed_at), cast('1970-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
        )
        {%- if window_since %}
            or {{ date_column }} >= {{ window_since }}
        {%- endif %}
{%- endmacro %}
