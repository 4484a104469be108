-- Shown in Dagster as a check of order_lifecycle_daily.
{{ config(meta={'dagster': {'ref': {'name': 'order_lifecycle_daily'}}}) }}

-- The events order_lifecycle_daily measures equal those of the facts per store and local date of
-- the event: payments captured of non-cancelled orders, shipments delivered, refunds of returned
-- goods of non-cancelled orders, and non-cancelled orders placed with a promotion code. Returns
-- the store-days and measures that disagree.
with orders as (

    select * from {{ ref('fct_orders') }}

),

captures as (

    {{ with_local_date(ref('fct_orders'), 'captured_at', 'date') | indent(4) }}

),

deliveries as (

    {{ with_local_date(ref('fct_shipments'), 'delivered_at', 'date') | indent(4) }}

),

refunds as (

    select * from {{ ref('fct_refunds') }}

),

mart as (

    select * from {{ ref('order_lifecycle_daily') }}

),

expected as (

    select
        store_id,
        date,
        'captures' as measure,
        count(*) as events
    from captures
    where not is_cancelled and captured_at is not null
    group by 1, 2

    union all

    select
        store_id,
        date,
        'deliveries' as measure,
        count(*) as events
    from deliveries
    where is_delivered
    group by 1, 2

    union all

    select
        refunds.store_id,
        refunds.refund_date as date,
        'return_refunds' as measure,
        count(*) as events
    from refunds
    left join orders
        on refunds.order_id = orders.order_id
    where refunds.reason = 'returned' and not coalesce(orders.is_cancelled, false)
    group by 1, 2

    union all

    select
        store_id,
        order_date as date,
        'promoted_orders' as measure,
        count(*) as events
    from orders
    where not is_cancelled and discount_code is not null
    group by 1, 2

),

actual as (

    select
        store_id,
        date,
        'captures' as measure,
        order_to_capture_count as events
    from mart

    union all

    select
        store_id,
        date,
        'deliveries' as measure,
        shipment_to_delivery_count as events
    from mart

    union all

    select
        store_id,
        date,
        'return_refunds' as measure,
        return_refunds as events
    from mart

    union all

    select
        store_id,
        date,
        'promoted_orders' as measure,
        promoted_orders as events
    from mart

)

select
    coalesce(expected.store_id, actual.store_id) as store_id,
    coalesce(expected.date, actual.date) as date,
    coalesce(expected.measure, actual.measure) as measure,
    expected.events as fact_events,
    actual.events as mart_events
from expected
full outer join actual
    on
        expected.store_id = actual.store_id
        and expected.date = actual.date
        and expected.measure = actual.measure
where coalesce(expected.events, 0) <> coalesce(actual.events, 0)
