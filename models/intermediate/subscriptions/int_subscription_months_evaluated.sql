{% set first_month = "cast('" ~ var('calendar_start') ~ "' as date)" %}
{% set end_month = "cast('" ~ var('calendar_end') ~ "' as date)" %}

with events as (

    {{ with_local_date(ref('stg_oms__subscription_events'), 'occurred_at', 'event_date') | indent(4) }}

),

calendar_months as (

    {{ dbt.date_spine('month', first_month, end_month) | indent(4) }}

),

changes as (

    select
        subscription_event_id,
        subscription_id,
        store_id,
        event_type,
        plan_id,
        monthly_amount,
        occurred_at,
        event_date,
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as month_start_date,
        -- a start, renewal, plan change or resume leaves the subscription active
        case event_type
            when 'paused' then 'paused'
            when 'cancelled' then 'cancelled'
            else 'active'
        end as status
    from events

),

month_end_changes as (

    -- the state a month ends in is the one its last change left
    select *
    from (
        select
            changes.*,
            row_number() over (
                partition by changes.subscription_id, changes.month_start_date
                order by changes.occurred_at desc, changes.subscription_event_id desc
            ) as change_rank
        from changes
    ) as ranked
    where change_rank = 1

),

subscriptions as (

    select
        subscription_id,
        store_id,
        min(month_start_date) as first_month_start_date
    from changes
    group by subscription_id, store_id

),

subscriptions_started as (

    select
        subscription_id,
        min(month_start_date) as started_month_start_date
    from changes
    where event_type = 'started'
    group by subscription_id

),

store_months as (

    -- a store's months run to the month of its latest change; that month's figures are the
    -- state so far, converted at the rate of its latest change's date
    select
        store_id,
        max(month_start_date) as last_month_start_date,
        max(event_date) as last_event_date
    from changes
    group by store_id

),

subscription_months as (

    select
        subscriptions.subscription_id,
        subscriptions.store_id,
        cast(calendar_months.date_month as date) as month_start_date,
        store_months.last_event_date
    from subscriptions
    inner join store_months
        on subscriptions.store_id = store_months.store_id
    inner join calendar_months
        on
            cast(calendar_months.date_month as date) >= subscriptions.first_month_start_date
            and cast(calendar_months.date_month as date) <= store_months.last_month_start_date

),

latest_change_months as (

    -- months without a change keep the state of the latest month with one
    select
        subscription_months.subscription_id,
        subscription_months.month_start_date,
        max(month_end_changes.month_start_date) as change_month_start_date
    from subscription_months
    inner join month_end_changes
        on
            subscription_months.subscription_id = month_end_changes.subscription_id
            and subscription_months.month_start_date >= month_end_changes.month_start_date
    group by subscription_months.subscription_id, subscription_months.month_start_date

),

month_end_states as (

    select
        subscription_months.subscription_id,
        subscription_months.store_id,
        subscription_months.month_start_date,
        cast(
            case
                when subscription_months.month_start_date = subscriptions_started.started_month_start_date
                    then 1
                else 0
            end as integer
        ) as is_started_in_month,
        month_end_changes.status,
        month_end_changes.plan_id,
        cast(
            case when month_end_changes.status = 'active' then month_end_changes.monthly_amount else 0 end
            as decimal(18, 2)
        ) as mrr,
        least(
            cast({{ dbt.last_day('subscription_months.month_start_date', 'month') }} as date),
            subscription_months.last_event_date
        ) as rate_date
    from subscription_months
    inner join latest_change_months
        on
            subscription_months.subscription_id = latest_change_months.subscription_id
            and subscription_months.month_start_date = latest_change_months.month_start_date
    inner join month_end_changes
        on
            latest_change_months.subscription_id = month_end_changes.subscription_id
            and latest_change_months.change_month_start_date = month_end_changes.month_start_date
    left join subscriptions_started
        on subscription_months.subscription_id = subscriptions_started.subscription_id

),

with_opening as (

    select
        *,
        cast(
            coalesce(lag(mrr) over (partition by subscription_id order by month_start_date), 0)
            as decimal(18, 2)
        ) as opening_mrr,
        coalesce(
            max(case when mrr > 0 then 1 else 0 end) over (
                partition by subscription_id
                order by month_start_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as had_mrr_before
    from month_end_states

),

final as (

    select
        subscription_id,
        store_id,
        month_start_date,
        rate_date,
        status,
        plan_id,
        opening_mrr,
        mrr,
        -- the month's movement, one kind per subscription: opening_mrr + movements = mrr
        cast(case when opening_mrr = 0 and mrr > 0 and had_mrr_before = 0 then mrr else 0 end as decimal(18, 2))
            as new_mrr,
        cast(case when opening_mrr = 0 and mrr > 0 and had_mrr_before = 1 then mrr else 0 end as decimal(18, 2))
            as reactivation_mrr,
        cast(case when opening_mrr > 0 and mrr > opening_mrr then mrr - opening_mrr else 0 end as decimal(18, 2))
            as expansion_mrr,
        cast(
            case when opening_mrr > 0 and mrr > 0 and mrr < opening_mrr then opening_mrr - mrr else 0 end
            as decimal(18, 2)
        ) as contraction_mrr,
        cast(case when opening_mrr > 0 and mrr = 0 and status = 'paused' then opening_mrr else 0 end as decimal(18, 2))
            as paused_mrr,
        cast(
            case when opening_mrr > 0 and mrr = 0 and status = 'cancelled' then opening_mrr else 0 end
            as decimal(18, 2)
        ) as churned_mrr,
        opening_mrr > 0 as is_opening_subscriber,
        mrr > 0 as is_active_subscriber,
        opening_mrr > 0 and mrr = 0 and status = 'cancelled' as is_churned_subscriber,
        is_started_in_month = 1 as is_new_subscriber
    from with_opening

)

select * from final
