-- Carts per store-local creation date and how they ended (int_carts_evaluated): the one daily
-- aggregate of carts (kpis_daily joins it). Open carts are not yet decided, so the abandonment
-- rate leaves them out of its denominator.
with carts as (

    select * from {{ ref('int_carts_evaluated') }}

)

select
    store_id,
    created_date as date,
    count(*) as carts_created,
    count(case when status = 'abandoned' then 1 end) as carts_abandoned,
    count(case when status = 'open' then 1 end) as carts_open
from carts
group by
    store_id,
    created_date
