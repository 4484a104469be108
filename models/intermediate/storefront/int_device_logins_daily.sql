-- Identity's per-day summary: per store and local date, each device and customer it was seen
-- logged in or buying as that day (counted events only), with the first such event, so that
-- int_devices_identified reads these rows, not every event of the history.
--
-- Incremental by store and local date, with the stamp int_events_sessionized uses: a partition is
-- rebuilt when any of its classified events (excluded ones too) landed, or had its consent decided,
-- after the last build. The partitions are found first (macros/rebuilt_scope.sql), so the events
-- are read by their days as literals, not scanned whole. Each partition also keeps one row without
-- a customer, carrying that stamp: delete+insert only replaces the partitions its new rows name, so
-- a day whose last identifying event a late withdrawal excludes must still write a row.
{#- a partition's stamp, over the events it is given: the whole table to find the partitions to
    rebuild, the CTE below (read by those days) to write it -#}
{%- set stamps_of %}
    select
        store_id,
        event_date,
        -- greatest() skips NULLs on DuckDB and Spark alike
        max(greatest(landed_at, consent_landed_at)) as partition_landed_at
    from __events__
    group by
        store_id,
        event_date
{%- endset %}
{%- set scope = rebuilt_scope(stamps_of | replace('__events__', ref('int_events_classified') | string), 'event_date') %}
with events as {{ inlined() }} (

    select
        store_id,
        event_date,
        anonymous_id,
        customer_id,
        event_id,
        event_at,
        landed_at,
        consent_landed_at,
        exclusion_reason
    from {{ ref('int_events_classified') }}
    {%- if scope %}
    where {{ in_rebuilt_scope('event_date', scope) }}
    {%- endif %}

),

partitions as (
    {{ stamps_of | replace('__events__', 'events') }}

),

rebuilt_partitions as (

    select partitions.*
    from partitions
    {%- if scope %}
    inner join ({{ classified_scope_partitions(scope) | indent(4) }}) as rebuilt
        on
            partitions.store_id = rebuilt.store_id
            and partitions.event_date = rebuilt.event_date
    {%- endif %}

),

identifying_events as (

    select
        events.store_id,
        events.event_date,
        events.anonymous_id,
        events.customer_id,
        events.event_id,
        events.event_at,
        events.landed_at,
        rebuilt_partitions.partition_landed_at,
        row_number() over (
            partition by events.store_id, events.event_date, events.anonymous_id, events.customer_id
            order by events.event_at, events.event_id
        ) as identification_number
    from events
    inner join rebuilt_partitions
        on
            events.store_id = rebuilt_partitions.store_id
            and events.event_date = rebuilt_partitions.event_date
    where events.customer_id is not null and events.exclusion_reason is null

)

select
    store_id,
    event_date,
    anonymous_id,
    customer_id,
    event_at as first_identified_at,
    event_id as first_event_id,
    landed_at as first_landed_at,
    partition_landed_at
from identifying_events
where identification_number = 1
union all
select
    store_id,
    event_date,
    null as anonymous_id,
    null as customer_id,
    null as first_identified_at,
    null as first_event_id,
    null as first_landed_at,
    partition_landed_at
from rebuilt_partitions
