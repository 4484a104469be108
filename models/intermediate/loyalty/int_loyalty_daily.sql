with transactions as (

    {{ with_local_date(ref('stg_crm__loyalty_transactions'), 'occurred_at', 'date') | indent(4) }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

ledger_per_day as (

    select
        store_id,
        date,
        count(distinct customer_id) as members_active,
        count(distinct case when transaction_type = 'redeemed' then customer_id end) as members_redeeming,
        sum(case when transaction_type = 'earned' then points else 0 end) as points_earned,
        sum(case when transaction_type = 'redeemed' then points else 0 end) as points_redeemed,
        sum(case when transaction_type = 'redeemed' then 1 else 0 end) as redemptions
    from transactions
    group by store_id, date

),

redeemed_orders as (

    select distinct
        store_id,
        order_id
    from transactions
    where transaction_type = 'redeemed' and order_id is not null

),

redemption_orders_per_day as (

    -- orders counted in GMV (placed, not cancelled), on their own local date
    select
        orders.store_id,
        orders.order_date as date,
        count(*) as orders_with_redemption,
        sum(orders.gmv) as redemption_orders_gmv,
        sum(orders.gmv_usd) as redemption_orders_gmv_usd
    from orders
    inner join redeemed_orders
        on
            orders.store_id = redeemed_orders.store_id
            and orders.order_id = redeemed_orders.order_id
    where not orders.is_cancelled
    group by orders.store_id, orders.order_date

),

store_days as (

    {{ store_day_spine(['ledger_per_day', 'redemption_orders_per_day']) | indent(4) }}

),

final as (

    select
        store_days.store_id,
        store_days.date,
        cast(coalesce(ledger_per_day.members_active, 0) as bigint) as members_active,
        cast(coalesce(ledger_per_day.members_redeeming, 0) as bigint) as members_redeeming,
        cast(coalesce(ledger_per_day.points_earned, 0) as bigint) as points_earned,
        cast(coalesce(ledger_per_day.points_redeemed, 0) as bigint) as points_redeemed,
        cast(coalesce(ledger_per_day.redemptions, 0) as bigint) as redemptions,
        cast(coalesce(redemption_orders_per_day.orders_with_redemption, 0) as bigint) as orders_with_redemption,
        cast(coalesce(redemption_orders_per_day.redemption_orders_gmv, 0) as decimal(38, 2))
            as redemption_orders_gmv,
        cast(coalesce(redemption_orders_per_day.redemption_orders_gmv_usd, 0) as decimal(38, 2))
            as redemption_orders_gmv_usd
    from store_days
    left join ledger_per_day
        on
            store_days.store_id = ledger_per_day.store_id
            and store_days.date = ledger_per_day.date
    left join redemption_orders_per_day
        on
            store_days.store_id = redemption_orders_per_day.store_id
            and store_days.date = redemption_orders_per_day.date

)

select * from final
