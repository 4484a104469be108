-- One row per cart, from its first add to cart: converted when its order's payment was captured
-- within the conversion window, abandoned when the window passed without one, open while the
-- window is still running at the clickstream's latest event.
with events as (

    select * from {{ ref('int_events_sessionized') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

carts as (

    select
        store_id,
        cart_id,
        min(event_at) as created_at
    from events
    where event_type = 'add_to_cart' and cart_id is not null
    group by
        store_id,
        cart_id

),

first_additions as (

    select
        carts.store_id,
        carts.cart_id,
        carts.created_at,
        min(events.event_date) as created_date,
        min(events.session_id) as session_id
    from carts
    inner join events
        on
            carts.store_id = events.store_id
            and carts.cart_id = events.cart_id
            and carts.created_at = events.event_at
    group by
        carts.store_id,
        carts.cart_id,
        carts.created_at

),

captures as (

    select
        store_id,
        cart_id,
        min(captured_at) as captured_at
    from orders
    where has_captured_payment and not is_cancelled and cart_id is not null
    group by
        store_id,
        cart_id

),

horizon as (

    select max(event_at) as observed_until
    from events

),

evaluated as (

    select
        first_additions.store_id,
        first_additions.cart_id,
        first_additions.session_id,
        first_additions.created_at,
        first_additions.created_date,
        captures.captured_at,
        {{ dbt.dateadd('hour', var('cart_conversion_window_hours'), 'first_additions.created_at') }}
            as window_closes_at,
        horizon.observed_until
    from first_additions
    cross join horizon
    left join captures
        on
            first_additions.store_id = captures.store_id
            and first_additions.cart_id = captures.cart_id

)

select
    store_id,
    cart_id,
    session_id,
    created_at,
    created_date,
    captured_at,
    case
        when captured_at is not null and captured_at <= window_closes_at then 'converted'
        when window_closes_at <= observed_until then 'abandoned'
        else 'open'
    end as status
from evaluated
