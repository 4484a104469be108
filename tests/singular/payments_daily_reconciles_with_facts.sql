-- Shown in Dagster as a check of payments_daily.
{{ config(meta={'dagster': {'ref': {'name': 'payments_daily'}}}) }}

-- Attempts, captured amounts and refunds of payments_daily equal those of fct_payments and
-- fct_refunds, per store and local day, in both currencies. Returns the days that disagree.
with from_facts as (

    select
        store_id,
        attempt_date as date,
        count(*) as attempts,
        sum(case when is_captured then amount else 0 end) as captured_amount,
        sum(case when is_captured then amount_usd else 0 end) as captured_amount_usd,
        0 as refunds,
        0 as refunded_amount,
        0 as refunded_amount_usd
    from {{ ref('fct_payments') }}
    group by
        store_id,
        attempt_date
    union all
    select
        store_id,
        refund_date as date,
        0 as attempts,
        0 as captured_amount,
        0 as captured_amount_usd,
        count(*) as refunds,
        sum(amount) as refunded_amount,
        sum(amount_usd) as refunded_amount_usd
    from {{ ref('fct_refunds') }}
    group by
        store_id,
        refund_date

),

expected as (

    select
        store_id,
        date,
        sum(attempts) as attempts,
        sum(captured_amount) as captured_amount,
        sum(captured_amount_usd) as captured_amount_usd,
        sum(refunds) as refunds,
        sum(refunded_amount) as refunded_amount,
        sum(refunded_amount_usd) as refunded_amount_usd
    from from_facts
    group by
        store_id,
        date

),

actual as (

    select
        store_id,
        date,
        sum(attempts) as attempts,
        sum(captured_amount) as captured_amount,
        sum(captured_amount_usd) as captured_amount_usd,
        sum(refunds) as refunds,
        sum(refunded_amount) as refunded_amount,
        sum(refunded_amount_usd) as refunded_amount_usd
    from {{ ref('payments_daily') }}
    group by
        store_id,
        date

)

select
    coalesce(expected.store_id, actual.store_id) as store_id,
    coalesce(expected.date, actual.date) as date
from expected
full outer join actual
    on
        expected.store_id = actual.store_id
        and expected.date = actual.date
where
    expected.attempts is distinct from actual.attempts
    or expected.captured_amount is distinct from actual.captured_amount
    or expected.captured_amount_usd is distinct from actual.captured_amount_usd
    or expected.refunds is distinct from actual.refunds
    or expected.refunded_amount is distinct from actual.refunded_amount
    or expected.refunded_amount_usd is distinct from actual.refunded_amount_usd
