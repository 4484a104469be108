-- Cohorts by the store-local month of the customer's first non-cancelled order; one row per
-- cohort and month since (0 = the first month), up to the store's latest month with orders.
--   retention rate (month k) = cohort customers with an order in month k / cohort size
{% set calendar_start = "cast('" ~ var('calendar_start') ~ "' as date)" %}
{% set calendar_end = "cast('" ~ var('calendar_end') ~ "' as date)" %}

with orders as (

    select * from {{ ref('int_customer_orders_valued') }}

),

months as (

    {{ dbt.date_spine('month', calendar_start, calendar_end) | indent(4) }}

),

cohorts as (

    select
        store_id,
        cohort_month,
        currency,
        count(distinct customer_id) as cohort_size
    from orders
    group by
        store_id,
        cohort_month,
        currency

),

store_last_months as (

    select
        store_id,
        max(order_month) as last_month
    from orders
    group by store_id

),

cohort_months as (

    select
        cohorts.store_id,
        cohorts.cohort_month,
        cohorts.currency,
        cohorts.cohort_size,
        cast(months.date_month as date) as activity_month,
        {{ dbt.datediff('cohorts.cohort_month', 'months.date_month', 'month') }}
            as months_since_first_order
    from cohorts
    inner join store_last_months
        on cohorts.store_id = store_last_months.store_id
    inner join months
        on
            cohorts.cohort_month <= months.date_month
            and store_last_months.last_month >= months.date_month

),

activity as (

    select
        store_id,
        cohort_month,
        order_month,
        count(distinct customer_id) as active_customers,
        count(distinct case when not is_first_order then customer_id end) as repeat_customers,
        count(*) as orders,
        count(case when is_first_order then 1 end) as first_orders,
        count(case when not is_first_order then 1 end) as repeat_orders,
        sum(net_revenue) as net_revenue,
        sum(net_revenue_usd) as net_revenue_usd
    from orders
    group by
        store_id,
        cohort_month,
        order_month

),

joined as (

    select
        cohort_months.store_id,
        cohort_months.cohort_month,
        cohort_months.months_since_first_order,
        cohort_months.activity_month,
        cohort_months.currency,
        cohort_months.cohort_size,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.repeat_customers, 0) as repeat_customers,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.first_orders, 0) as first_orders,
        coalesce(activity.repeat_orders, 0) as repeat_orders,
        coalesce(activity.net_revenue, 0) as net_revenue,
        coalesce(activity.net_revenue_usd, 0) as net_revenue_usd
    from cohort_months
    left join activity
        on
            cohort_months.store_id = activity.store_id
            and cohort_months.cohort_month = activity.cohort_month
            and cohort_months.activity_month = activity.order_month

),

cumulated as (

    select
        *,
        sum(net_revenue) over cohort_to_date as cumulative_net_revenue,
        sum(net_revenue_usd) over cohort_to_date as cumulative_net_revenue_usd
    from joined
    window cohort_to_date as (
        partition by store_id, cohort_month
        order by months_since_first_order
        rows between unbounded preceding and current row
    )

)

select
    store_id,
    cohort_month,
    months_since_first_order,
    activity_month,
    currency,
    cohort_size,
    active_customers,
    {{ ratio('active_customers', 'cohort_size') }} as retention_rate,
    repeat_customers,
    orders,
    first_orders,
    repeat_orders,
    net_revenue,
    net_revenue_usd,
    cumulative_net_revenue,
    cumulative_net_revenue_usd,
    cast({{ ratio('cumulative_net_revenue', 'cohort_size') }} as decimal(18, 2)) as cumulative_net_revenue_per_customer,
    cast({{ ratio('cumulative_net_revenue_usd', 'cohort_size') }} as decimal(18, 2))
        as cumulative_net_revenue_per_customer_usd
from cumulated
