with loyalty_per_day as (

    select * from {{ ref('int_loyalty_daily') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

final as (

    select
        loyalty_per_day.store_id,
        loyalty_per_day.date,
        stores.currency,
        loyalty_per_day.members_active,
        loyalty_per_day.members_redeeming,
        loyalty_per_day.points_earned,
        loyalty_per_day.points_redeemed,
        loyalty_per_day.redemptions,
        {{ ratio('loyalty_per_day.members_redeeming', 'loyalty_per_day.members_active') }} as redemption_rate,
        loyalty_per_day.orders_with_redemption,
        loyalty_per_day.redemption_orders_gmv,
        loyalty_per_day.redemption_orders_gmv_usd
    from loyalty_per_day
    inner join stores
        on loyalty_per_day.store_id = stores.store_id

)

select * from final
