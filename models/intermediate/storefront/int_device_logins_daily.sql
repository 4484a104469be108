-- Identity's per-day summary: per store and local date, each device and customer it was seen
-- logged in or buying as that day (counted events only), with the first such event, so that
-- int_devices_identified reads these rows, not every event of the history.
--
-- Incremental by store and local date, with the stamp int_events_sessionized uses: a partition is
-- rebuilt when any of its classified events (excluded ones too) landed, or had its consent decided,
-- after the last build. Each partition also keeps one row without a customer, carrying that stamp:
-- delete+insert only replaces the partitions its new rows name, so a day whose last identifying
-- event a late withdrawal excludes must still write a row to lose the old ones.
with events as (

    select * from {{ ref('int_events_classified') }}

),

partitions as (

    select
        store_id,
        event_date,
        -- greatest() skips NULLs on DuckDB and Spark alike
        max(greatest(landed_at, consent_landed_at)) as partition_landed_at
    from events
    group by
        store_id,
        event_date

),

{% if is_incremental() %}
rebuilt as (

    {{ rebuilt_partitions('partitions', 'event_date') | indent(4) }}

),
{% endif %}

rebuilt_partitions as (

    select partitions.*
    from partitions
    {%- if is_incremental() %}
    inner join rebuilt
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
