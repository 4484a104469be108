-- Sessions and orders of each affiliate partner, per store and local day. A session belongs to a
-- partner when its entry's source, medium channel and campaign (int_sessions_summarized, the one
-- session attribution) match the partner's utm_source and utm_campaign in the Affiliates channel; an
-- order belongs to the partner of the session that bought it (int_orders_attributed). Commission is
-- the day's GMV times the rate valid on the order date, rounded once to the cent per row.
with sessions as (

    select * from {{ ref('int_sessions_summarized') }}

),

attributed_orders as (

    select * from {{ ref('int_orders_attributed') }}

),

rate_periods as (

    select * from {{ ref('stg_crm__affiliate_partners') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

-- a partner's name and links from its latest rate period
partners as (

    select
        store_id,
        partner_id,
        partner_name,
        utm_source,
        utm_campaign
    from (
        select
            *,
            row_number() over (partition by store_id, partner_id order by valid_from desc) as period_rank
        from rate_periods
    ) as ranked
    where period_rank = 1

),

partner_sessions as (

    select
        sessions.session_id,
        sessions.store_id,
        sessions.session_date,
        sessions.is_converted,
        partners.partner_id
    from sessions
    inner join partners
        on
            sessions.store_id = partners.store_id
            and sessions.source = partners.utm_source
            and sessions.campaign = partners.utm_campaign
    where sessions.channel_group = 'Affiliates'

),

sessions_per_day as (

    select
        store_id,
        session_date as date,
        partner_id,
        count(*) as sessions,
        count(case when is_converted then 1 end) as converted_sessions
    from partner_sessions
    group by
        store_id,
        session_date,
        partner_id

),

orders_per_day as (

    select
        attributed_orders.store_id,
        attributed_orders.order_date as date,
        partner_sessions.partner_id,
        count(*) as orders,
        sum(attributed_orders.gmv) as revenue,
        sum(attributed_orders.gmv_usd) as revenue_usd
    from attributed_orders
    inner join partner_sessions
        on attributed_orders.session_id = partner_sessions.session_id
    group by
        attributed_orders.store_id,
        attributed_orders.order_date,
        partner_sessions.partner_id

),

partner_days as (

    select
        coalesce(sessions_per_day.store_id, orders_per_day.store_id) as store_id,
        coalesce(sessions_per_day.date, orders_per_day.date) as date,
        coalesce(sessions_per_day.partner_id, orders_per_day.partner_id) as partner_id,
        coalesce(sessions_per_day.sessions, 0) as sessions,
        coalesce(sessions_per_day.converted_sessions, 0) as converted_sessions,
        coalesce(orders_per_day.orders, 0) as orders,
        coalesce(orders_per_day.revenue, 0) as revenue,
        coalesce(orders_per_day.revenue_usd, 0) as revenue_usd
    from sessions_per_day
    full outer join orders_per_day
        on
            sessions_per_day.store_id = orders_per_day.store_id
            and sessions_per_day.date = orders_per_day.date
            and sessions_per_day.partner_id = orders_per_day.partner_id

),

final as (

    select
        partner_days.store_id,
        partner_days.date,
        partner_days.partner_id,
        partners.partner_name,
        partners.utm_source,
        partners.utm_campaign,
        partner_days.sessions,
        partner_days.converted_sessions,
        partner_days.orders,
        partner_days.revenue,
        partner_days.revenue_usd,
        rate_periods.commission_rate,
        cast(round(partner_days.revenue * rate_periods.commission_rate, 2) as decimal(18, 2)) as commission,
        {{ to_usd('partner_days.revenue * rate_periods.commission_rate', 'fx_rates.usd_per_unit') }}
            as commission_usd
    from partner_days
    inner join partners
        on
            partner_days.store_id = partners.store_id
            and partner_days.partner_id = partners.partner_id
    inner join stores
        on partner_days.store_id = stores.store_id
    left join rate_periods
        on
            partner_days.store_id = rate_periods.store_id
            and partner_days.partner_id = rate_periods.partner_id
            and partner_days.date >= rate_periods.valid_from
            and (rate_periods.valid_to is null or partner_days.date < rate_periods.valid_to)
    left join fx_rates
        on
            partner_days.date = fx_rates.rate_date
            and stores.currency = fx_rates.currency

)

select * from final
