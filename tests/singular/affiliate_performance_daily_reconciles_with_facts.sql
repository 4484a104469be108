-- affiliate_performance_daily against fct_sessions and fct_orders, per store, day and partner link:
-- sessions and converted sessions are fct_sessions' of the partner's source and campaign in the
-- Affiliates channel; orders and revenue (both currencies) are fct_orders' non-cancelled orders whose
-- buying session (int_orders_attributed) is one of those; commission is that revenue times the staged
-- rate valid on the day, to the cent. Any row returned is a failure.
with mart as (

    select
        store_id,
        date,
        utm_source,
        utm_campaign,
        sessions,
        converted_sessions,
        orders,
        revenue,
        revenue_usd,
        commission
    from {{ ref('affiliate_performance_daily') }}

),

links as (

    select distinct
        store_id,
        partner_id,
        utm_source,
        utm_campaign
    from {{ ref('stg_crm__affiliate_partners') }}

),

rates as (

    select * from {{ ref('stg_crm__affiliate_partners') }}

),

partner_sessions as (

    select
        sessions.session_id,
        sessions.store_id,
        sessions.session_date,
        sessions.is_converted,
        links.partner_id,
        links.utm_source,
        links.utm_campaign
    from {{ ref('fct_sessions') }} as sessions
    inner join links
        on
            sessions.store_id = links.store_id
            and sessions.source = links.utm_source
            and sessions.campaign = links.utm_campaign
    where sessions.channel_group = 'Affiliates'

),

session_facts as (

    select
        store_id,
        session_date as date,
        utm_source,
        utm_campaign,
        count(*) as sessions,
        count(case when is_converted then 1 end) as converted_sessions
    from partner_sessions
    group by 1, 2, 3, 4

),

order_facts as (

    select
        orders.store_id,
        orders.order_date as date,
        partner_sessions.partner_id,
        partner_sessions.utm_source,
        partner_sessions.utm_campaign,
        count(*) as orders,
        sum(orders.gmv) as revenue,
        sum(orders.gmv_usd) as revenue_usd
    from {{ ref('fct_orders') }} as orders
    inner join {{ ref('int_orders_attributed') }} as attributed
        on orders.order_id = attributed.order_id
    inner join partner_sessions
        on attributed.session_id = partner_sessions.session_id
    where not orders.is_cancelled
    group by 1, 2, 3, 4, 5

),

facts as (

    select
        coalesce(session_facts.store_id, order_facts.store_id) as store_id,
        coalesce(session_facts.date, order_facts.date) as date,
        coalesce(session_facts.utm_source, order_facts.utm_source) as utm_source,
        coalesce(session_facts.utm_campaign, order_facts.utm_campaign) as utm_campaign,
        coalesce(session_facts.sessions, 0) as sessions,
        coalesce(session_facts.converted_sessions, 0) as converted_sessions,
        coalesce(order_facts.orders, 0) as orders,
        coalesce(order_facts.revenue, 0) as revenue,
        coalesce(order_facts.revenue_usd, 0) as revenue_usd,
        cast(round(coalesce(order_facts.revenue, 0) * rates.commission_rate, 2) as decimal(18, 2)) as commission
    from session_facts
    full outer join order_facts
        on
            session_facts.store_id = order_facts.store_id
            and session_facts.date = order_facts.date
            and session_facts.utm_source = order_facts.utm_source
            and session_facts.utm_campaign = order_facts.utm_campaign
    left join links
        on
            coalesce(session_facts.store_id, order_facts.store_id) = links.store_id
            and coalesce(session_facts.utm_source, order_facts.utm_source) = links.utm_source
            and coalesce(session_facts.utm_campaign, order_facts.utm_campaign) = links.utm_campaign
    left join rates
        on
            links.store_id = rates.store_id
            and links.partner_id = rates.partner_id
            and coalesce(session_facts.date, order_facts.date) >= rates.valid_from
            and (rates.valid_to is null or coalesce(session_facts.date, order_facts.date) < rates.valid_to)

)

select
    coalesce(mart.store_id, facts.store_id) as store_id,
    coalesce(mart.date, facts.date) as date,
    coalesce(mart.utm_source, facts.utm_source) as utm_source,
    mart.sessions as mart_sessions,
    facts.sessions as fact_sessions,
    mart.orders as mart_orders,
    facts.orders as fact_orders,
    mart.revenue as mart_revenue,
    facts.revenue as fact_revenue,
    mart.commission as mart_commission,
    facts.commission as fact_commission
from mart
full outer join facts
    on
        mart.store_id = facts.store_id
        and mart.date = facts.date
        and mart.utm_source = facts.utm_source
        and mart.utm_campaign = facts.utm_campaign
where
    mart.store_id is null
    or facts.store_id is null
    or mart.sessions != facts.sessions
    or mart.converted_sessions != facts.converted_sessions
    or mart.orders != facts.orders
    or mart.revenue != facts.revenue
    or mart.revenue_usd != facts.revenue_usd
    or mart.commission is distinct from facts.commission
