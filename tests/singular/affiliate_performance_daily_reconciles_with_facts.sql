-- affiliate_performance_daily against fct_sessions and fct_orders, per store, day and partner link
-- (utm source and campaign of a staged partner row): sessions and converted sessions are
-- fct_sessions' of that source and campaign in the Affiliates channel; orders and revenue (both
-- currencies) are fct_orders' non-cancelled orders whose buying session (int_orders_attributed) is
-- one of those; commission is that revenue times the staged rate valid on the day, to the cent.
-- Sessions of a source no partner row names belong to no row. Any row returned is a failure.
with partner_rows as (

    select * from {{ ref('stg_crm__affiliate_partners') }}

),

affiliate_sessions as (

    select * from {{ ref('fct_sessions') }}
    where
        channel_group = 'Affiliates'
        and store_id || '/' || source || '/' || campaign in (
            select partner_rows.store_id || '/' || partner_rows.utm_source || '/' || partner_rows.utm_campaign
            from partner_rows
        )

),

facts_per_link as (

    select
        affiliate_sessions.store_id,
        affiliate_sessions.session_date as date,
        affiliate_sessions.source,
        affiliate_sessions.campaign,
        count(*) as sessions,
        count(case when affiliate_sessions.is_converted then 1 end) as converted_sessions,
        0 as orders,
        0 as revenue,
        0 as revenue_usd
    from affiliate_sessions
    group by 1, 2, 3, 4
    union all
    select
        orders.store_id,
        orders.order_date as date,
        affiliate_sessions.source,
        affiliate_sessions.campaign,
        0 as sessions,
        0 as converted_sessions,
        count(*) as orders,
        sum(orders.gmv) as revenue,
        sum(orders.gmv_usd) as revenue_usd
    from {{ ref('fct_orders') }} as orders
    inner join {{ ref('int_orders_attributed') }} as bought
        on orders.order_id = bought.order_id
    inner join affiliate_sessions
        on bought.session_id = affiliate_sessions.session_id
    where not orders.is_cancelled
    group by 1, 2, 3, 4

),

facts as (

    select
        store_id,
        date,
        source,
        campaign,
        sum(sessions) as sessions,
        sum(converted_sessions) as converted_sessions,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(revenue_usd) as revenue_usd
    from facts_per_link
    group by 1, 2, 3, 4

),

marts as (

    select * from {{ ref('affiliate_performance_daily') }}

),

staged_commission as (

    select
        marts.store_id,
        marts.date,
        marts.partner_id,
        cast(round(marts.revenue * partner_rows.commission_rate, 2) as decimal(18, 2)) as commission
    from marts
    inner join partner_rows
        on
            marts.store_id = partner_rows.store_id
            and marts.partner_id = partner_rows.partner_id
            and marts.date >= partner_rows.valid_from
            and (partner_rows.valid_to is null or marts.date < partner_rows.valid_to)

)

select
    coalesce(marts.store_id, facts.store_id) as store_id,
    coalesce(marts.date, facts.date) as date,
    coalesce(marts.utm_source, facts.source) as utm_source,
    marts.sessions as mart_sessions,
    facts.sessions as fact_sessions,
    marts.orders as mart_orders,
    facts.orders as fact_orders,
    marts.revenue as mart_revenue,
    facts.revenue as fact_revenue,
    marts.commission as mart_commission,
    staged_commission.commission as staged_commission
from marts
full outer join facts
    on
        marts.store_id = facts.store_id
        and marts.date = facts.date
        and marts.utm_source = facts.source
        and marts.utm_campaign = facts.campaign
left join staged_commission
    on
        marts.store_id = staged_commission.store_id
        and marts.date = staged_commission.date
        and marts.partner_id = staged_commission.partner_id
where
    marts.store_id is null
    or facts.store_id is null
    or marts.sessions != facts.sessions
    or marts.converted_sessions != facts.converted_sessions
    or marts.orders != facts.orders
    or marts.revenue != facts.revenue
    or marts.revenue_usd != facts.revenue_usd
    or marts.commission is distinct from staged_commission.commission
