{#- Which (store_id, event_date) partitions an incremental run of int_events_classified rebuilds,
    from inputs that landed after its last build (`since`: the latest landing stamp the table
    holds; stamps follow the landing sequence, so anything landed later is newer) and the run's
    window (macros/window_rebuilt_since.sql):
    - the local days of newly landed events, and the day either side, where a burst of activity
      running over midnight may now make or unmake a bot;
    - the days holding another purchase event of an order a new purchase event names (a late copy
      or a late original changes which one is the reload);
    - the days of events whose consent in force changed: the events a newly landed decision now
      covers (a late grant, a late withdrawal, a decision landed between two others);
    - every day of the window, less `lookback_days`, as every incremental model does.
    The new events are read from the landed table, every copy, not from staging's first copies:
    finding the first copy takes an aggregate over every event id ever landed (10.1 s against
    4.4 s for this query on the 14.4 M-event peak day). A later copy of an old event at most adds
    its days to the rebuild, which gives the same rows. -#}
{% macro classified_partitions(since) -%}
    {%- set window_since = window_rebuilt_since() -%}
    {%- set landed_since = timestamp_literal(since) -%}
    with new_events as (

        select
            events.store_id,
            events.event_type,
            events.order_id,
            {{ local_date('events.event_at', 'stores.time_zone') }} as event_date
        from {{ raw_source('storefront', 'events') }} as events
        inner join {{ ref('stg_oms__stores') }} as stores
            on events.store_id = stores.store_id
        where events._landed_at > {{ landed_since }}

    ),

    new_decisions as (

        select *
        from {{ ref('int_analytics_consent_periods') }}
        where landed_at > {{ landed_since }}

    )

    select
        store_id,
        cast({{ dbt.dateadd('day', 'days_either_side.day_shift', 'new_events.event_date') }} as date) as event_date
    from new_events
    cross join (select -1 as day_shift union all select 0 union all select 1) as days_either_side
    union
    select
        built.store_id,
        built.event_date
    from {{ this }} as built
    inner join new_events
        on built.store_id = new_events.store_id and built.order_id = new_events.order_id
    where built.event_type = 'purchase' and new_events.event_type = 'purchase'
    union
    select
        built.store_id,
        built.event_date
    from {{ this }} as built
    inner join new_decisions
        on
            built.store_id = new_decisions.store_id
            and built.anonymous_id = new_decisions.anonymous_id
            and built.event_at >= new_decisions.valid_from
            and (new_decisions.valid_to is null or built.event_at < new_decisions.valid_to)
    {%- if window_since %}
    union
    select
        built.store_id,
        built.event_date
    from {{ this }} as built
    where built.event_date >= {{ window_since }}
    {%- endif %}
{%- endmacro %}

{#- What an incremental run of int_events_classified reads: none on a full build (everything);
    otherwise the (store_id, event_date) partitions it rebuilds, found once, at run time, and the
    first and last of their days (none when nothing is to be rebuilt). -#}
{% macro classified_scope() -%}
    {#- a dbt unit test has no `this`: it tests the full build's SQL -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = run_query(
        "select greatest(max(landed_at), max(consent_landed_at)) from " ~ this
    ).columns[0].values()[0] -%}
    {%- if since is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(partition_scope(classified_partitions(since), 'event_date')) }}
{%- endmacro %}

{#- SQL condition: the UTC timestamp `column` falls in the scope's days, with a day of context either
    side and a day for the widest time-zone offset; false when nothing is rebuilt. -#}
{% macro in_classified_scope(column, scope) -%}
    {%- if scope.first is none -%}
        false
    {%- else -%}
        ({{ column }} >= {{ dbt.dateadd('day', -2, "cast('" ~ scope.first ~ "' as date)") }}
        and {{ column }} < {{ dbt.dateadd('day', 3, "cast('" ~ scope.last ~ "' as date)") }})
    {%- endif -%}
{%- endmacro %}

{#- SQL relation of the scope's partitions (store_id, event_date), written out. -#}
{% macro classified_scope_partitions(scope) -%}
    {%- for store_id, day in scope.partitions %}
    select '{{ store_id }}' as store_id, cast('{{ day }}' as date) as event_date
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as store_id, cast(null as date) as event_date
    {%- endfor %}
{%- endmacro %}
