with source as (

    select * from {{ raw_source('oms', 'subscription_events') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'subscription_event_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        subscription_event_id,
        subscription_id,
        store_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        event_type,
        plan_id,
        billing_interval_months,
        price,
        currency,
        -- the price of one month of the plan, rounded once to the cent (an annual price / 12)
        cast(round(price / billing_interval_months, 2) as decimal(18, 2)) as monthly_amount,
        occurred_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
