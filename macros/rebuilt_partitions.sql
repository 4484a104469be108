{#- The (store_id, date) partitions an incremental model rebuilds whole, from `rows` carrying
    `partition_landed_at`: each partition whose inputs landed after the model's last build (late
    events, consent decisions, logins that re-stitch a device, late payments all raise it), plus,
    when a run names its window, every date from the window's start less `lookback_days`
    (macros/window_rebuilt_since.sql). With `missing`, also each partition of `rows` the model
    lacks: the days a pre-hook deleted after a vanished one (macros/delete_vanished_partitions.sql);
    off where a partition may rightly yield no rows, which would be rebuilt on every run. -#}
{% macro rebuilt_partitions(rows, date_column, missing=false) -%}
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
    {%- if missing %}
    union
    select
        store_id,
        {{ date_column }}
    from {{ rows }} as candidates
    where not exists (
        select 1
        from {{ this }} as built
        where built.store_id = candidates.store_id and built.{{ date_column }} = candidates.{{ date_column }}
    )
    {%- endif %}
{%- endmacro %}

{#- SQL: one row per (store_id, `date_column`) partition of `relation`, with its latest
    partition_landed_at: the stamps a model whose partitions are its input's compares with its own
    (rebuilt_partitions, rebuilt_scope) and writes on its rows; with a `scope` (rebuilt_scope's),
    only the partitions of the scope's days, read by those days as literals. -#}
{% macro partition_stamps(relation, date_column, scope=none) -%}
    select
        store_id,
        {{ date_column }},
        max(partition_landed_at) as partition_landed_at
    from {{ relation }}
    {%- if scope %}
    where {{ in_rebuilt_scope(date_column, scope) }}
    {%- endif %}
    group by
        store_id,
        {{ date_column }}
{%- endmacro %}
