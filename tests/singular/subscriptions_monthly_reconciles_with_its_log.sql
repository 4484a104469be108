-- subscriptions_monthly against the subscription log, month by month: the movements add up from
-- the opening to the closing MRR; a month's opening is the previous month's MRR; and the closing
-- MRR and active subscribers are recomputed here from the staged log, independently of the
-- intermediate model (the last change up to the month's end, active subscriptions at their
-- monthly amount). Any row returned is a failure.
with marts as (

    select * from {{ ref('subscriptions_monthly') }}

),

events as (

    {{ with_local_date(ref('stg_oms__subscription_events'), 'occurred_at', 'event_date') | indent(4) }}

),

month_ends as (

    select
        marts.store_id,
        marts.month_start_date,
        events.subscription_id,
        events.event_type,
        events.monthly_amount,
        row_number() over (
            partition by marts.store_id, marts.month_start_date, events.subscription_id
            order by events.occurred_at desc, events.subscription_event_id desc
        ) as change_rank
    from marts
    inner join events
        on
            marts.store_id = events.store_id
            and events.event_date <= cast({{ dbt.last_day('marts.month_start_date', 'month') }} as date)

),

recomputed as (

    select
        store_id,
        month_start_date,
        sum(case when event_type not in ('paused', 'cancelled') then monthly_amount else 0 end) as mrr,
        sum(case when event_type not in ('paused', 'cancelled') then 1 else 0 end) as active_subscribers
    from month_ends
    where change_rank = 1
    group by store_id, month_start_date

)

select
    marts.store_id,
    marts.month_start_date
from marts
left join recomputed
    on
        marts.store_id = recomputed.store_id
        and marts.month_start_date = recomputed.month_start_date
left join marts as previous
    on
        marts.store_id = previous.store_id
        and marts.month_start_date = cast({{ dbt.dateadd('month', 1, 'previous.month_start_date') }} as date)
where
    marts.opening_mrr + marts.new_mrr + marts.expansion_mrr + marts.reactivation_mrr
    - marts.contraction_mrr - marts.paused_mrr - marts.churned_mrr <> marts.mrr
    or marts.mrr <> coalesce(recomputed.mrr, 0)
    or marts.active_subscribers <> coalesce(recomputed.active_subscribers, 0)
    or marts.opening_mrr <> coalesce(previous.mrr, 0)
    or marts.opening_subscribers <> coalesce(previous.active_subscribers, 0)
