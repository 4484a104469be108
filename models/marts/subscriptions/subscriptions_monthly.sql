with subscription_months as (

    select * from {{ ref('int_subscription_months_evaluated') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

monthly as (

    select
        store_id,
        month_start_date,
        max(rate_date) as rate_date,
        sum(case when is_opening_subscriber then 1 else 0 end) as opening_subscribers,
        sum(case when is_new_subscriber then 1 else 0 end) as new_subscribers,
        sum(case when is_churned_subscriber then 1 else 0 end) as churned_subscribers,
        sum(case when is_active_subscriber then 1 else 0 end) as active_subscribers,
        sum(opening_mrr) as opening_mrr,
        sum(new_mrr) as new_mrr,
        sum(expansion_mrr) as expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(paused_mrr) as paused_mrr,
        sum(churned_mrr) as churned_mrr,
        sum(mrr) as mrr
    from subscription_months
    group by store_id, month_start_date

),

final as (

    select
        monthly.store_id,
        monthly.month_start_date,
        stores.currency,
        fx_rates.usd_per_unit,
        cast(monthly.opening_subscribers as bigint) as opening_subscribers,
        cast(monthly.new_subscribers as bigint) as new_subscribers,
        cast(monthly.churned_subscribers as bigint) as churned_subscribers,
        cast(monthly.active_subscribers as bigint) as active_subscribers,
        cast(monthly.opening_mrr as decimal(38, 2)) as opening_mrr,
        cast(monthly.new_mrr as decimal(38, 2)) as new_mrr,
        cast(monthly.expansion_mrr as decimal(38, 2)) as expansion_mrr,
        cast(monthly.contraction_mrr as decimal(38, 2)) as contraction_mrr,
        cast(monthly.reactivation_mrr as decimal(38, 2)) as reactivation_mrr,
        cast(monthly.paused_mrr as decimal(38, 2)) as paused_mrr,
        cast(monthly.churned_mrr as decimal(38, 2)) as churned_mrr,
        cast(monthly.mrr as decimal(38, 2)) as mrr,
        {{ to_usd('monthly.opening_mrr', 'fx_rates.usd_per_unit') }} as opening_mrr_usd,
        {{ to_usd('monthly.new_mrr', 'fx_rates.usd_per_unit') }} as new_mrr_usd,
        {{ to_usd('monthly.expansion_mrr', 'fx_rates.usd_per_unit') }} as expansion_mrr_usd,
        {{ to_usd('monthly.contraction_mrr', 'fx_rates.usd_per_unit') }} as contraction_mrr_usd,
        {{ to_usd('monthly.reactivation_mrr', 'fx_rates.usd_per_unit') }} as reactivation_mrr_usd,
        {{ to_usd('monthly.paused_mrr', 'fx_rates.usd_per_unit') }} as paused_mrr_usd,
        {{ to_usd('monthly.churned_mrr', 'fx_rates.usd_per_unit') }} as churned_mrr_usd,
        {{ to_usd('monthly.mrr', 'fx_rates.usd_per_unit') }} as mrr_usd,
        {{ ratio('monthly.churned_subscribers', 'monthly.opening_subscribers') }} as logo_churn_rate,
        {{ ratio('monthly.churned_mrr + monthly.contraction_mrr', 'monthly.opening_mrr') }} as revenue_churn_rate
    from monthly
    inner join stores
        on monthly.store_id = stores.store_id
    left join fx_rates
        on
            monthly.rate_date = fx_rates.rate_date
            and stores.currency = fx_rates.currency

)

select * from final
