-- Historical value from the orders; predictions from the per-store (M)BG/NBD + Gamma-Gamma fit
-- of int_customer_lifetimes_predicted. Predicted value is in the store currency and converted to
-- USD at the rate of the customer's last order date.
with orders as (

    select * from {{ ref('int_customer_orders_valued') }}

),

predictions as (

    select * from {{ ref('int_customer_lifetimes_predicted') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

history as (

    select
        store_id,
        customer_id,
        currency,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders,
        sum(gmv) as gmv,
        sum(refunded_amount) as refunded_amount,
        sum(net_revenue) as historical_ltv,
        sum(net_revenue_usd) as historical_ltv_usd,
        sum(gross_margin) as gross_margin_ltv,
        sum(gross_margin_usd) as gross_margin_ltv_usd
    from orders
    group by
        store_id,
        customer_id,
        currency

)

select
    history.store_id,
    history.customer_id,
    history.currency,
    history.first_order_date,
    history.last_order_date,
    history.orders,
    history.gmv,
    history.refunded_amount,
    history.historical_ltv,
    history.historical_ltv_usd,
    history.gross_margin_ltv,
    history.gross_margin_ltv_usd,
    predictions.model_name,
    predictions.model_as_of_at,
    predictions.horizon_months,
    predictions.probability_alive,
    predictions.predicted_purchases,
    cast(predictions.expected_average_value as decimal(18, 2)) as expected_order_value,
    cast(predictions.predicted_value as decimal(18, 2)) as predicted_ltv,
    {{ to_usd('predictions.predicted_value', 'fx_rates.usd_per_unit') }} as predicted_ltv_usd
from history
left join predictions
    on
        history.store_id = predictions.store_id
        and history.customer_id = predictions.customer_id
left join fx_rates
    on
        history.last_order_date = fx_rates.rate_date
        and history.currency = fx_rates.currency
