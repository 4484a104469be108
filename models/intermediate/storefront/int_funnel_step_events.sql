-- Every counted event that is a step of its store's funnel. A store's own rows in the
-- funnel_steps seed replace the '*' default. A purchase is a step only once its order's payment
-- was captured (the backend's word, not the browser's).
--
-- Incremental by store and local date (macros/rebuilt_partitions.sql): a partition's stamp is its
-- events' stamp and the latest landing of the orders and payments its purchases name, so a payment
-- captured the next day reopens the day of the purchase. The partitions are found first
-- (macros/rebuilt_scope.sql), so the events are read by their days as literals, not scanned whole.
-- A change of the funnel_steps seed needs a full refresh, as for funnel_daily.
{#- a partition's stamp, over the events and conversions it is given: the whole tables to find the
    partitions to rebuild, the CTEs below (read by those days) to write it -#}
{%- set stamps_of %}
    select
        store_id,
        event_date,
        max(partition_landed_at) as partition_landed_at
    from (
        select
            store_id,
            event_date,
            partition_landed_at
        from __events__
        union all
        select
            store_id,
            session_date as event_date,
            source_landed_at as partition_landed_at
        from __conversions__
    ) as stamps
    group by
        store_id,
        event_date
{%- endset %}
{%- set scope = rebuilt_scope(
    stamps_of | replace('__events__', ref('int_events_sessionized') | string) | replace('__conversions__', ref('int_session_conversions') | string),
    'event_date',
) %}
with events as {{ inlined() }} (

    select * from {{ ref('int_events_sessionized') }}
    {%- if scope %}
    where {{ in_rebuilt_scope('event_date', scope) }}
    {%- endif %}

),

conversions as (

    select * from {{ ref('int_session_conversions') }}
    {%- if scope %}
    where {{ in_rebuilt_scope('session_date', scope) }}
    {%- endif %}

),

funnel_steps as (

    select * from {{ ref('funnel_steps') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

stores_with_own_funnel as (

    select distinct store_id
    from funnel_steps
    where store_id <> '*'

),

store_steps as (

    select
        stores.store_id,
        funnel_steps.step_number,
        funnel_steps.step_name,
        funnel_steps.event_type,
        funnel_steps.step_number = max(funnel_steps.step_number) over (partition by stores.store_id) as is_last_step
    from stores
    inner join funnel_steps
        on
            stores.store_id = funnel_steps.store_id
            or (
                funnel_steps.store_id = '*'
                and stores.store_id not in (select store_id from stores_with_own_funnel)
            )

),

partitions as (
    {{ stamps_of | replace('__events__', 'events') | replace('__conversions__', 'conversions') }}

),

step_events as (

    select
        events.event_id,
        events.session_id,
        events.visitor_id,
        events.store_id,
        events.event_date,
        events.event_at,
        store_steps.step_number,
        store_steps.step_name,
        store_steps.is_last_step,
        partitions.partition_landed_at
    from events
    inner join partitions
        on
            events.store_id = partitions.store_id
            and events.event_date = partitions.event_date
    {%- if scope %}
    inner join ({{ classified_scope_partitions(scope) | indent(4) }}) as rebuilt
        on
            events.store_id = rebuilt.store_id
            and events.event_date = rebuilt.event_date
    {%- endif %}
    inner join store_steps
        on
            events.store_id = store_steps.store_id
            and events.event_type = store_steps.event_type
    left join conversions
        on
            events.session_id = conversions.session_id
            and events.order_id = conversions.order_id
    where events.event_type <> 'purchase' or conversions.is_captured

)

select * from step_events
