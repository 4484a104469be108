-- Per store-local day: customers buying for the first time vs returning, the share of customers to
-- date who bought more than once, and the day's leading customer segments (home country by net
-- revenue, sign-up channel by orders).
--   repeat purchase rate = customers with 2+ orders to date / customers with an order to date
with orders as (

    select * from {{ ref('int_customer_orders_valued') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

daily as (

    select
        store_id,
        order_date as date,
        currency,
        count(distinct customer_id) as customers,
        count(distinct case when order_date = first_order_date then customer_id end) as new_customers,
        count(distinct case when order_date > first_order_date then customer_id end) as returning_customers,
        count(*) as orders,
        count(case when order_date = first_order_date then 1 end) as new_customer_orders,
        count(case when order_date > first_order_date then 1 end) as returning_customer_orders,
        count(case when customer_order_number = 1 then 1 end) as first_time_customers,
        count(case when customer_order_number = 2 then 1 end) as second_time_customers,
        sum(net_revenue) as net_revenue,
        sum(case when order_date = first_order_date then net_revenue else 0 end) as new_customer_net_revenue,
        sum(case when order_date > first_order_date then net_revenue else 0 end) as returning_customer_net_revenue,
        sum(net_revenue_usd) as net_revenue_usd
    from orders
    group by
        store_id,
        order_date,
        currency

),

to_date as (

    select
        *,
        cast(sum(first_time_customers) over store_to_date as {{ dbt.type_bigint() }}) as customers_to_date,
        cast(sum(second_time_customers) over store_to_date as {{ dbt.type_bigint() }}) as repeat_customers_to_date
    from daily
    window store_to_date as (
        partition by store_id
        order by date
        rows between unbounded preceding and current row
    )

),

segments as (

    select
        orders.store_id,
        orders.order_date as date,
        'country' as segment_type,
        coalesce(customers.country, 'unknown') as segment,
        sum(orders.net_revenue) as measure
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    group by
        orders.store_id,
        orders.order_date,
        coalesce(customers.country, 'unknown')
    union all
    select
        orders.store_id,
        orders.order_date as date,
        'signup_channel' as segment_type,
        coalesce(customers.signup_channel, 'unknown') as segment,
        count(*) as measure
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    group by
        orders.store_id,
        orders.order_date,
        coalesce(customers.signup_channel, 'unknown')

),

ranked_segments as (

    select
        *,
        row_number() over (
            partition by store_id, date, segment_type
            order by measure desc, segment asc
        ) as segment_rank
    from segments

)

select
    to_date.store_id,
    to_date.date,
    to_date.currency,
    to_date.customers,
    to_date.new_customers,
    to_date.returning_customers,
    to_date.orders,
    to_date.new_customer_orders,
    to_date.returning_customer_orders,
    to_date.net_revenue,
    to_date.new_customer_net_revenue,
    to_date.returning_customer_net_revenue,
    to_date.net_revenue_usd,
    to_date.customers_to_date,
    to_date.repeat_customers_to_date,
    {{ ratio('to_date.repeat_customers_to_date', 'to_date.customers_to_date') }} as repeat_purchase_rate,
    top_country.segment as top_country,
    top_country.measure as top_country_net_revenue,
    top_channel.segment as top_signup_channel,
    cast(top_channel.measure as bigint) as top_signup_channel_orders
from to_date
left join ranked_segments as top_country
    on
        to_date.store_id = top_country.store_id
        and to_date.date = top_country.date
        and top_country.segment_type = 'country'
        and top_country.segment_rank = 1
left join ranked_segments as top_channel
    on
        to_date.store_id = top_channel.store_id
        and to_date.date = top_channel.date
        and top_channel.segment_type = 'signup_channel'
        and top_channel.segment_rank = 1
{{ open_days_only('to_date.date') }}
