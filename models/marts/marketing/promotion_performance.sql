-- One row per discount code (every promotion is redeemed through a code), over the whole history.
-- Uses are orders placed with the code, whatever became of them; orders and money count the
-- non-cancelled ones (METRICS.md); money in USD at each order's rate.
--   conversion rate = uses whose order was paid (captured payment, not cancelled) / uses
--   redemption rate = uses / the code's maximum uses (NULL for unlimited codes)
with codes as (

    select * from {{ ref('stg_oms__discount_codes') }}

),

promotions as (

    select * from {{ ref('stg_oms__promotions') }}

),

orders as (

    select * from {{ ref('int_orders_converted_to_usd') }}

),

orders_per_code as (

    select
        store_id,
        discount_code,
        count(*) as uses,
        count(case when not is_cancelled then 1 end) as orders,
        count(case when has_captured_payment and not is_cancelled then 1 end) as paid_orders,
        count(distinct customer_id) as customers,
        min(placed_at) as first_used_at,
        max(placed_at) as last_used_at,
        sum(case when not is_cancelled then gmv else 0 end) as gmv,
        sum(case when not is_cancelled then discounts else 0 end) as discounts,
        sum(case when not is_cancelled then refunded_amount else 0 end) as refunds,
        sum(case when not is_cancelled then gmv_usd else 0 end) as gmv_usd,
        sum(case when not is_cancelled then discounts_usd else 0 end) as discounts_usd,
        sum(case when not is_cancelled then refunded_amount_usd else 0 end) as refunds_usd
    from orders
    where discount_code is not null
    group by
        store_id,
        discount_code

),

final as (

    select
        codes.store_id,
        codes.discount_code_id,
        codes.code,
        codes.promotion_id,
        promotions.name as promotion_name,
        promotions.promotion_type,
        promotions.discount_value,
        promotions.starts_at,
        promotions.ends_at,
        codes.max_uses,
        coalesce(orders_per_code.uses, 0) as uses,
        coalesce(orders_per_code.orders, 0) as orders,
        coalesce(orders_per_code.paid_orders, 0) as paid_orders,
        coalesce(orders_per_code.customers, 0) as customers,
        orders_per_code.first_used_at,
        orders_per_code.last_used_at,
        coalesce(orders_per_code.gmv, 0) as gmv,
        coalesce(orders_per_code.discounts, 0) as discounts,
        coalesce(orders_per_code.refunds, 0) as refunds,
        coalesce(orders_per_code.gmv_usd, 0) as gmv_usd,
        coalesce(orders_per_code.discounts_usd, 0) as discounts_usd,
        coalesce(orders_per_code.refunds_usd, 0) as refunds_usd
    from codes
    inner join promotions
        on codes.promotion_id = promotions.promotion_id
    left join orders_per_code
        on
            codes.store_id = orders_per_code.store_id
            and codes.code = orders_per_code.discount_code

)

select
    store_id,
    discount_code_id,
    code,
    promotion_id,
    promotion_name,
    promotion_type,
    discount_value,
    starts_at,
    ends_at,
    max_uses,
    uses,
    orders,
    paid_orders,
    customers,
    first_used_at,
    last_used_at,
    gmv,
    discounts,
    refunds,
    gmv - discounts - refunds as net_revenue,
    gmv_usd,
    discounts_usd,
    refunds_usd,
    gmv_usd - discounts_usd - refunds_usd as net_revenue_usd,
    {{ ratio('paid_orders', 'uses') }} as conversion_rate,
    {{ ratio('uses', 'max_uses') }} as redemption_rate
from final
