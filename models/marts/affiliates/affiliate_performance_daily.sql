with partner_days as (

    select * from {{ ref('int_affiliates_daily') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

final as (

    select
        partner_days.store_id,
        partner_days.date,
        partner_days.partner_id,
        partner_days.partner_name,
        partner_days.utm_source,
        partner_days.utm_campaign,
        stores.currency,
        partner_days.sessions,
        partner_days.converted_sessions,
        {{ ratio('partner_days.converted_sessions', 'partner_days.sessions') }} as conversion_rate,
        partner_days.orders,
        partner_days.revenue,
        partner_days.revenue_usd,
        partner_days.commission_rate,
        partner_days.commission,
        partner_days.commission_usd
    from partner_days
    inner join stores
        on partner_days.store_id = stores.store_id

)

select * from final
{{ open_days_only('date') }}
