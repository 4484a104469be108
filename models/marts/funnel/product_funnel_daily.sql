-- Store x local date x product: the product's own funnel within a session, in order: viewed,
-- added to cart at or after the view, bought in a captured order of the same session at or after
-- the add. Search-level steps have no product, so they are not part of this funnel.
--
-- Incremental by store and local date, rebuilt with the session summaries, as funnel_daily is
-- (their partitions also move when a late payment capture completes a purchase). The partitions
-- are found first (macros/rebuilt_scope.sql), so the events are read by their days as literals.
{%- set scope = rebuilt_scope(partition_stamps(ref('int_sessions_summarized'), 'session_date'), 'session_date') %}
with events as {{ inlined() }} (

    {{ rows_in_rebuilt_scope(ref('int_events_sessionized'), 'event_date', scope) | indent(4) }}

),

partitions as (

    {{ partition_stamps(ref('int_sessions_summarized'), 'session_date', scope) | indent(4) }}

),

conversions as (

    select * from {{ ref('int_session_conversions') }}
    {%- if scope %}
    where {{ in_rebuilt_scope('session_date', scope) }}
    {%- endif %}

),

order_items as (

    select * from {{ ref('int_order_items_converted_to_usd') }}

),

views as (

    select
        session_id,
        store_id,
        event_date as session_date,
        product_id,
        min(event_at) as reached_at
    from events
    where event_type = 'product_view' and product_id is not null
    group by
        session_id,
        store_id,
        event_date,
        product_id

),

additions as (

    select
        views.session_id,
        views.product_id,
        min(events.event_at) as reached_at
    from views
    inner join events
        on
            views.session_id = events.session_id
            and views.product_id = events.product_id
            and events.event_type = 'add_to_cart'
            and views.reached_at <= events.event_at
    group by
        views.session_id,
        views.product_id

),

purchases as (

    select
        additions.session_id,
        additions.product_id,
        min(events.event_at) as reached_at
    from additions
    inner join events
        on
            additions.session_id = events.session_id
            and events.event_type = 'purchase'
            and additions.reached_at <= events.event_at
    inner join conversions
        on
            events.session_id = conversions.session_id
            and events.order_id = conversions.order_id
            and conversions.is_captured
    inner join order_items
        on
            conversions.order_id = order_items.order_id
            and additions.product_id = order_items.product_id
    group by
        additions.session_id,
        additions.product_id

),

session_products as (

    select
        views.store_id,
        views.session_date,
        views.product_id,
        views.reached_at as viewed_at,
        additions.reached_at as added_at,
        purchases.reached_at as purchased_at
    from views
    left join additions
        on
            views.session_id = additions.session_id
            and views.product_id = additions.product_id
    left join purchases
        on
            views.session_id = purchases.session_id
            and views.product_id = purchases.product_id

),

steps as (

    select
        store_id,
        session_date,
        product_id,
        1 as step_number,
        'product_view' as step_name,
        viewed_at as reached_at,
        added_at as next_step_reached_at
    from session_products
    union all
    select
        store_id,
        session_date,
        product_id,
        2 as step_number,
        'add_to_cart' as step_name,
        added_at as reached_at,
        purchased_at as next_step_reached_at
    from session_products
    where added_at is not null
    union all
    select
        store_id,
        session_date,
        product_id,
        3 as step_number,
        'payment_captured' as step_name,
        purchased_at as reached_at,
        cast(null as {{ dbt.type_timestamp() }}) as next_step_reached_at
    from session_products
    where purchased_at is not null

),

per_step as (

    select
        store_id,
        session_date as date,
        product_id,
        step_number,
        step_name,
        {{ funnel_step_counts(last_step='step_number = 3') | indent(8) }}
    from steps
    group by
        store_id,
        session_date,
        product_id,
        step_number,
        step_name

)

select
    per_step.store_id,
    per_step.date,
    per_step.product_id,
    per_step.step_number,
    per_step.step_name,
    per_step.entrants,
    per_step.reached_next,
    {{ funnel_drop_off_rate() }} as drop_off_rate,
    partitions.partition_landed_at
from per_step
inner join partitions
    on
        per_step.store_id = partitions.store_id
        and per_step.date = partitions.session_date
